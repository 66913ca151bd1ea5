export type BadgeTone = 'good' | 'warn' | 'bad' | 'neutral';

const tones: Record<BadgeTone, { badge: string; dot: string }> = {
  good: { badge: 'bg-emerald-50 text-emerald-800 ring-emerald-600/30', dot: 'bg-emerald-500' },
  warn: { badge: 'bg-amber-50 text-amber-900 ring-amber-600/30', dot: 'bg-amber-500' },
  bad: { badge: 'bg-red-50 text-red-800 ring-red-600/30', dot: 'bg-red-500' },
  neutral: { badge: 'bg-slate-100 text-slate-700 ring-slate-500/30', dot: 'bg-slate-400' },
};

interface StatusBadgeProps {
  tone: BadgeTone;
  label: string;
  testId?: string;
}

/** A coloured pill; the text always carries the meaning so colour is never the only cue. */
export function StatusBadge({ tone, label, testId }: StatusBadgeProps) {
  const style = tones[tone];
  return (
    <span
      data-testid={testId}
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${style.badge}`}
    >
      <span aria-hidden="true" className={`size-1.5 rounded-full ${style.dot}`} />
      {label}
    </span>
  );
}
