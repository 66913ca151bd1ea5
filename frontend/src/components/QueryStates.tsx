import type { ApiError } from '../api/errors';

/** Skeleton rows shown while the first answer is on its way. */
export function LoadingRows({ rows = 3, label }: { rows?: number; label: string }) {
  return (
    <div role="status" aria-live="polite" aria-busy="true" className="space-y-2">
      <span className="sr-only">{label}</span>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} aria-hidden="true" className="h-5 animate-pulse rounded bg-slate-100" />
      ))}
    </div>
  );
}

interface ErrorPanelProps {
  title: string;
  error: ApiError;
  onRetry: () => void;
  retrying?: boolean;
}

export function ErrorPanel({ title, error, onRetry, retrying = false }: ErrorPanelProps) {
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm">
      <p className="font-semibold text-red-900">{title}</p>
      <p className="mt-1 text-red-800">{error.message}</p>
      {error.requestId ? (
        <p className="mt-1 font-mono text-xs text-red-700">Request ID: {error.requestId}</p>
      ) : null}
      <button
        type="button"
        onClick={onRetry}
        disabled={retrying}
        className="mt-3 rounded-md border border-red-300 bg-white px-3 py-1 text-xs font-semibold text-red-800 hover:bg-red-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600 disabled:cursor-wait disabled:opacity-60"
      >
        {retrying ? 'Retrying…' : 'Retry'}
      </button>
    </div>
  );
}

export function EmptyPanel({ message }: { message: string }) {
  return (
    <p className="rounded-md border border-dashed border-slate-300 px-3 py-4 text-center text-sm text-slate-500">
      {message}
    </p>
  );
}
