/** The product mark: a stylised plug inside a rounded square, drawn inline so nothing is fetched. */
export function BrandMark({ className = 'size-7' }: { className?: string }) {
  return (
    <svg viewBox="0 0 32 32" aria-hidden="true" className={className}>
      <rect width="32" height="32" rx="7" fill="#0ea5e9" />
      <path d="M18.5 5 9 18h6l-1.5 9L23 14h-6z" fill="#fff" />
    </svg>
  );
}
