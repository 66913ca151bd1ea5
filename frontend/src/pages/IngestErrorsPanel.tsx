import { useQuery } from '@tanstack/react-query';
import { listIngestErrors } from '../api/telemetry';
import { Card } from '../components/Card';
import { buttonClass } from '../components/Form';
import { formatDateTime } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';

/**
 * The machine's last 20 rejected messages, newest first, so whoever writes its firmware can
 * see what the server refused and why.
 */
export function IngestErrorsPanel({ deviceId }: { deviceId: string }) {
  const errors = useQuery({
    queryKey: ['ingest-errors', deviceId],
    queryFn: ({ signal }) => listIngestErrors(deviceId, signal),
    refetchInterval: 60_000,
  });

  let body;
  if (errors.isPending) body = <LoadingRows label="Loading rejected messages…" />;
  else if (errors.isError)
    body = (
      <ErrorPanel
        title="The rejected messages are unavailable"
        error={errors.error}
        onRetry={() => void errors.refetch()}
        retrying={errors.isFetching}
      />
    );
  else if (errors.data.length === 0) body = <EmptyPanel message="No rejected messages" />;
  else
    body = (
      <ol className="divide-y divide-slate-100" aria-label="Rejected messages">
        {errors.data.map((item, index) => (
          <li key={`${item.received_at}-${index}`} className="py-2 text-sm">
            <div className="flex flex-wrap items-baseline gap-x-3">
              <time dateTime={item.received_at} className="text-xs text-slate-500">
                {formatDateTime(item.received_at)}
              </time>
              <span className="rounded bg-amber-50 px-1.5 font-mono text-xs text-amber-900 ring-1 ring-amber-600/30">
                {item.reason}
              </span>
            </div>
            <p className="mt-1 text-slate-800">{item.message}</p>
            <details className="mt-1">
              <summary className="cursor-pointer text-xs text-sky-800">Payload</summary>
              <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-50 p-2 font-mono text-xs break-all whitespace-pre-wrap text-slate-800">
                {item.payload === '' ? '(empty)' : item.payload}
              </pre>
            </details>
          </li>
        ))}
      </ol>
    );

  return (
    <Card
      title="Rejected messages"
      meta={
        <button
          type="button"
          className={buttonClass.small}
          disabled={errors.isFetching}
          onClick={() => void errors.refetch()}
        >
          {errors.isFetching ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      {body}
    </Card>
  );
}
