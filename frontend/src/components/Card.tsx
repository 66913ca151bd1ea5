import type { ReactNode } from 'react';

interface CardProps {
  title: string;
  /** Small text on the right of the title bar, such as the time of the last refresh. */
  meta?: ReactNode;
  children: ReactNode;
  className?: string;
}

export function Card({ title, meta, children, className = '' }: CardProps) {
  const headingId = `card-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section
      aria-labelledby={headingId}
      className={`rounded-lg border border-slate-200 bg-white shadow-sm ${className}`}
    >
      <div className="flex items-center justify-between gap-4 border-b border-slate-200 px-4 py-2.5">
        <h2 id={headingId} className="text-sm font-semibold tracking-wide text-slate-800">
          {title}
        </h2>
        {meta ? <div className="text-xs text-slate-500">{meta}</div> : null}
      </div>
      <div className="p-4">{children}</div>
    </section>
  );
}
