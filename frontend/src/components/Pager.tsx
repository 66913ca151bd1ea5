import { buttonClass } from './Form';

interface PagerProps {
  offset: number;
  limit: number;
  total: number;
  shown: number;
  onChange: (offset: number) => void;
}

/** "21–40 of 73" with previous and next buttons. */
export function Pager({ offset, limit, total, shown, onChange }: PagerProps) {
  const first = total === 0 ? 0 : offset + 1;
  const last = offset + shown;
  return (
    <div className="mt-3 flex items-center justify-between text-sm text-slate-600">
      <span data-testid="pager-range">
        {first}–{last} of {total}
      </span>
      <div className="flex gap-2">
        <button
          type="button"
          className={buttonClass.small}
          disabled={offset === 0}
          onClick={() => onChange(Math.max(0, offset - limit))}
        >
          Previous
        </button>
        <button
          type="button"
          className={buttonClass.small}
          disabled={last >= total}
          onClick={() => onChange(offset + limit)}
        >
          Next
        </button>
      </div>
    </div>
  );
}
