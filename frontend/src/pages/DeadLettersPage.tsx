import {
  keepPreviousData,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from '@tanstack/react-query';
import { useId, useState } from 'react';
import {
  deadLetterQueues,
  deleteDeadLetter,
  listDeadLetters,
  requeueDeadLetter,
  type DeadLetter,
  type DeadLetterList,
  type DeadLetterQuery,
  type DeadLetterQueue,
} from '../api/jobs';
import { Card } from '../components/Card';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { buttonClass, FormError, inputClass } from '../components/Form';
import { formatDateTime } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { TableHead } from '../components/TableHead';
import { useSearchParamState } from '../hooks/useSearchParamState';

/** The server answers at most this many, newest first; there is no paging. */
export const DEAD_LETTER_LIMIT = 50;

const deadLetterKeys = {
  all: ['dead-letters'] as const,
  list: (query: object) => ['dead-letters', 'list', query] as const,
};

const queueLabels: Record<DeadLetterQueue, string> = {
  'rule-engine': 'Rule engine',
  notifications: 'Notifications',
};

const COLUMNS = ['Task', 'Queue', 'Died at', 'Attempts', 'Last error', 'Request ID'];

function isQueue(value: string): value is DeadLetterQueue {
  return (deadLetterQueues as readonly string[]).includes(value);
}

function queueLabel(queue: string): string {
  return isQueue(queue) ? queueLabels[queue] : queue;
}

function prettyPayload(payload: unknown): string {
  return payload === null || payload === undefined
    ? 'No payload, or the server could not read it.'
    : JSON.stringify(payload, null, 2);
}

/** Takes a handled job out of every cached list at once, then asks the server again. */
function forget(queryClient: QueryClient, id: string) {
  queryClient.setQueriesData<DeadLetterList>({ queryKey: deadLetterKeys.all }, (list) =>
    list ? { items: list.items.filter((item) => item.id !== id) } : list,
  );
  void queryClient.invalidateQueries({ queryKey: deadLetterKeys.all });
}

function DeadLetterRows({
  letter,
  onDelete,
  onDone,
}: {
  letter: DeadLetter;
  onDelete: () => void;
  onDone: (notice: string | null) => void;
}) {
  const queryClient = useQueryClient();
  const detailId = useId();
  const [open, setOpen] = useState(false);
  const requeue = useMutation({
    mutationFn: () => requeueDeadLetter(letter.id),
    onMutate: () => onDone(null),
    onSuccess: () => {
      onDone(`${letter.task} is back on its queue with a fresh set of attempts.`);
      forget(queryClient, letter.id);
    },
  });
  const span = COLUMNS.length + 1;

  return (
    <>
      <tr data-testid={`dead-letter-${letter.id}`}>
        <td className="py-2 pr-3 font-mono text-xs">{letter.task}</td>
        <td className="py-2 pr-3 text-xs">{queueLabel(letter.queue)}</td>
        <td className="py-2 pr-3 text-xs whitespace-nowrap">
          <time dateTime={letter.died_at}>{formatDateTime(letter.died_at)}</time>
        </td>
        <td className="py-2 pr-3 text-xs">{letter.attempts}</td>
        <td className="max-w-xs py-2 pr-3 text-xs break-words text-slate-800">
          {letter.last_error || '—'}
        </td>
        <td className="py-2 pr-3 font-mono text-xs">{letter.request_id || '—'}</td>
        <td className="py-2 whitespace-nowrap">
          <button
            type="button"
            className={buttonClass.small}
            aria-expanded={open}
            aria-controls={detailId}
            onClick={() => setOpen((value) => !value)}
          >
            {open ? 'Hide payload' : 'Payload'}
          </button>{' '}
          <button
            type="button"
            className={`${buttonClass.small} disabled:cursor-wait disabled:opacity-60`}
            aria-label={`Requeue ${letter.task} (${letter.id})`}
            disabled={requeue.isPending}
            onClick={() => requeue.mutate()}
          >
            {requeue.isPending ? 'Requeuing…' : 'Requeue'}
          </button>{' '}
          <button
            type="button"
            className={`${buttonClass.small} disabled:opacity-60`}
            aria-label={`Delete ${letter.task} (${letter.id})`}
            disabled={requeue.isPending}
            onClick={() => {
              requeue.reset();
              onDelete();
            }}
          >
            Delete
          </button>
        </td>
      </tr>
      {requeue.error ? (
        <tr>
          <td colSpan={span} className="pb-2">
            <FormError error={requeue.error} />
          </td>
        </tr>
      ) : null}
      {open ? (
        <tr id={detailId}>
          <td colSpan={span} className="pb-3">
            <p className="text-xs text-slate-500">
              Job <span className="font-mono">{letter.id}</span>, queued{' '}
              <time dateTime={letter.enqueued_at}>{formatDateTime(letter.enqueued_at)}</time>
            </p>
            <pre
              aria-label={`Payload of ${letter.task}`}
              className="mt-1 max-h-64 overflow-auto rounded bg-slate-50 p-2 font-mono text-xs break-all whitespace-pre-wrap text-slate-800"
            >
              {prettyPayload(letter.payload)}
            </pre>
          </td>
        </tr>
      ) : null}
    </>
  );
}

function DeleteDialog({
  letter,
  onClose,
  onDone,
}: {
  letter: DeadLetter;
  onClose: () => void;
  onDone: (notice: string | null) => void;
}) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: () => deleteDeadLetter(letter.id),
    onMutate: () => onDone(null),
    onSuccess: () => {
      onDone(`${letter.task} was deleted.`);
      forget(queryClient, letter.id);
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title="Delete dead letter"
      confirmLabel="Delete"
      pendingLabel="Deleting…"
      tone="danger"
      onConfirm={() => mutation.mutate()}
      isPending={mutation.isPending}
      error={mutation.error}
      onClose={onClose}
    >
      <p className="text-sm text-slate-700">
        <strong className="font-mono">{letter.task}</strong>, which died{' '}
        {formatDateTime(letter.died_at)}, will be forgotten and never run. The deletion is recorded
        in the audit log.
      </p>
    </ConfirmDialog>
  );
}

export function DeadLettersPage() {
  const [params, setParam] = useSearchParamState();
  const raw = params.get('queue') ?? '';
  // An unknown queue in a bookmarked address lists every queue rather than nothing.
  const queue = isQueue(raw) ? raw : '';
  const [deleting, setDeleting] = useState<DeadLetter | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const query: DeadLetterQuery = { queue, limit: DEAD_LETTER_LIMIT };
  const letters = useQuery({
    queryKey: deadLetterKeys.list(query),
    queryFn: ({ signal }) => listDeadLetters(query, signal),
    placeholderData: keepPreviousData,
  });

  let body;
  if (letters.isPending) body = <LoadingRows rows={4} label="Loading dead letters…" />;
  else if (letters.isError)
    body = (
      <ErrorPanel
        title="The dead letters are unavailable"
        error={letters.error}
        onRetry={() => void letters.refetch()}
        retrying={letters.isFetching}
      />
    );
  else if (letters.data.items.length === 0)
    body = <EmptyPanel message="No dead letters: every job finished or is still being retried." />;
  else
    body = (
      <>
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <TableHead columns={COLUMNS} actions />
            <tbody className="divide-y divide-slate-100">
              {letters.data.items.map((letter) => (
                <DeadLetterRows
                  key={letter.id}
                  letter={letter}
                  onDelete={() => setDeleting(letter)}
                  onDone={setNotice}
                />
              ))}
            </tbody>
          </table>
        </div>
        {letters.data.items.length >= DEAD_LETTER_LIMIT ? (
          <p className="mt-2 text-xs text-slate-500">
            Showing the newest {DEAD_LETTER_LIMIT}. Older ones appear as these are requeued or
            deleted.
          </p>
        ) : null}
      </>
    );

  return (
    <>
      <title>Dead letters · FactoryOps</title>
      <div className="mb-4">
        <h1 className="text-xl font-semibold text-slate-900">Dead letters</h1>
        <p className="text-sm text-slate-500">
          Background jobs that failed 3 retries or failed permanently, such as an email the mail
          server refused. Requeue one to try it again, or delete it.
        </p>
      </div>
      <Card
        title="Failed jobs"
        meta={
          <button
            type="button"
            className={buttonClass.small}
            disabled={letters.isFetching}
            onClick={() => void letters.refetch()}
          >
            {letters.isFetching ? 'Refreshing…' : 'Refresh'}
          </button>
        }
      >
        <div className="mb-3 grid gap-2 sm:grid-cols-2 lg:grid-cols-4">
          <label className="text-xs text-slate-600">
            Queue
            <select
              value={queue}
              onChange={(e) => {
                setNotice(null);
                setParam('queue', e.target.value);
              }}
              className={inputClass(false)}
            >
              <option value="">All queues</option>
              {deadLetterQueues.map((name) => (
                <option key={name} value={name}>
                  {queueLabels[name]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {notice ? (
          <p role="status" className="mb-3 text-sm text-emerald-800">
            {notice}
          </p>
        ) : null}
        {body}
      </Card>
      {deleting ? (
        <DeleteDialog letter={deleting} onClose={() => setDeleting(null)} onDone={setNotice} />
      ) : null}
    </>
  );
}
