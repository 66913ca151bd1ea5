import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { listAuditLog } from '../api/audit';
import { auditActions, type User } from '../api/types';
import { listUsers } from '../api/users';
import { Card } from '../components/Card';
import { FilterSelect, inputClass } from '../components/Form';
import { formatDateTime } from '../components/format';
import { Pager } from '../components/Pager';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { TableHead } from '../components/TableHead';
import { useSearchParamState } from '../hooks/useSearchParamState';

const PAGE_SIZE = 50;

/** `datetime-local` text (browser time) to RFC 3339 UTC, or undefined when empty or invalid. */
function toUtc(local: string): string | undefined {
  if (local === '') return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** How a user is named in the filter: their name and email, or the email alone. */
function userLabel(user: User): string {
  return user.name.trim() === '' ? user.email : `${user.name} (${user.email})`;
}

function details(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function AuditLogPage() {
  const [params, setParam] = useSearchParamState();
  const action = params.get('action') ?? '';
  const userId = params.get('user_id') ?? '';
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const offset = Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0);
  const rangeError =
    from !== '' && to !== '' && from > to ? 'The start of the range is after its end.' : null;

  const users = useQuery({ queryKey: ['users'], queryFn: ({ signal }) => listUsers(signal) });
  const userOptions = (users.data?.items ?? []).map((user) => ({
    value: String(user.id),
    label: userLabel(user),
  }));
  // A user id from a bookmarked link stays selectable while the list loads or if it has gone.
  if (userId !== '' && !userOptions.some((option) => option.value === userId)) {
    userOptions.push({ value: userId, label: `User ${userId}` });
  }

  const query = {
    limit: PAGE_SIZE,
    offset,
    action,
    user_id: userId,
    from: toUtc(from),
    to: toUtc(to),
  };
  const log = useQuery({
    queryKey: ['audit-log', query],
    queryFn: ({ signal }) => listAuditLog(query, signal),
    placeholderData: keepPreviousData,
    enabled: rangeError === null,
  });

  let body;
  if (rangeError) body = <EmptyPanel message={rangeError} />;
  else if (log.isPending) body = <LoadingRows rows={6} label="Loading the audit log…" />;
  else if (log.isError)
    body = (
      <ErrorPanel
        title="The audit log is unavailable"
        error={log.error}
        onRetry={() => void log.refetch()}
        retrying={log.isFetching}
      />
    );
  else if (log.data.items.length === 0)
    body = <EmptyPanel message="No audit entries match these filters." />;
  else
    body = (
      <>
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <TableHead
              columns={['When', 'Who', 'Action', 'Resource', 'IP', 'Details', 'Request ID']}
              flushLast
            />
            <tbody className="divide-y divide-slate-100">
              {log.data.items.map((entry) => (
                <tr key={String(entry.id)}>
                  <td className="py-2 pr-3 text-xs whitespace-nowrap">
                    {formatDateTime(entry.created_at)}
                  </td>
                  <td className="py-2 pr-3 text-xs">{entry.user_email ?? '—'}</td>
                  <td className="py-2 pr-3 font-mono text-xs">{entry.action}</td>
                  <td className="py-2 pr-3 text-xs">
                    {entry.resource_type
                      ? `${entry.resource_type} ${entry.resource_id ?? ''}`.trim()
                      : '—'}
                  </td>
                  <td className="py-2 pr-3 font-mono text-xs">{entry.ip ?? '—'}</td>
                  <td className="max-w-xs py-2 pr-3 font-mono text-xs break-words">
                    {details(entry.details)}
                  </td>
                  <td className="py-2 font-mono text-xs">{entry.request_id ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager
          offset={offset}
          limit={PAGE_SIZE}
          total={log.data.total}
          shown={log.data.items.length}
          onChange={(value) => setParam('offset', value === 0 ? '' : String(value))}
        />
      </>
    );

  return (
    <>
      <title>Audit log · FactoryOps</title>
      <div className="mb-4">
        <h1 className="text-xl font-semibold text-slate-900">Audit log</h1>
        <p className="text-sm text-slate-500">
          Sign-ins, changes to accounts, machines and rules, alert handling, jobs and invitation
          emails.
        </p>
      </div>
      <Card title="Entries">
        <div className="mb-3 grid gap-2 sm:grid-cols-2 lg:grid-cols-4">
          <FilterSelect
            label="Action"
            value={action}
            onChange={(value) => setParam('action', value)}
            allLabel="All actions"
            options={auditActions.map((name) => ({ value: name, label: name }))}
          />
          <FilterSelect
            label="User"
            value={userId}
            onChange={(value) => setParam('user_id', value)}
            allLabel="Anyone"
            options={userOptions}
          />
          <label className="text-xs text-slate-600">
            From
            <input
              type="datetime-local"
              value={from}
              onChange={(e) => setParam('from', e.target.value)}
              className={inputClass(rangeError !== null)}
            />
          </label>
          <label className="text-xs text-slate-600">
            To
            <input
              type="datetime-local"
              value={to}
              onChange={(e) => setParam('to', e.target.value)}
              className={inputClass(rangeError !== null)}
            />
          </label>
        </div>
        {body}
      </Card>
    </>
  );
}
