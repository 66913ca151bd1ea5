import type { ReactNode } from 'react';
import { useSystemInfo } from '../hooks/useSystemInfo';
import { Card } from './Card';
import { formatDateTime, formatUptime } from './format';
import { ErrorPanel, LoadingRows } from './QueryStates';

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[9rem_1fr] gap-2 py-1.5">
      <dt className="text-sm text-slate-500">{term}</dt>
      <dd className="text-sm text-slate-900">{children}</dd>
    </div>
  );
}

/** Version, roles, metadata backend and uptime, from `GET /api/v1/system/info`. */
export function ServerInfoCard() {
  const info = useSystemInfo();

  let body;
  if (info.isPending) {
    body = <LoadingRows rows={4} label="Loading server information…" />;
  } else if (info.isError) {
    body = (
      <ErrorPanel
        title="Server information is unavailable"
        error={info.error}
        onRetry={() => void info.refetch()}
        retrying={info.isFetching}
      />
    );
  } else {
    const data = info.data;
    body = (
      <dl className="divide-y divide-slate-100">
        <Row term="Product">{data.name}</Row>
        <Row term="Version">
          <span data-testid="server-version" className="font-mono">
            {data.version}
          </span>
        </Row>
        <Row term="Roles">
          {data.roles.length === 0 ? (
            <span className="text-slate-500">No roles reported</span>
          ) : (
            <ul className="flex flex-wrap gap-1.5">
              {data.roles.map((role) => (
                <li
                  key={role}
                  className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700"
                >
                  {role}
                </li>
              ))}
            </ul>
          )}
        </Row>
        <Row term="Metadata store">{data.metadata_backend === 'mysql' ? 'MySQL' : 'SQLite'}</Row>
        <Row term="Started">{formatDateTime(data.started_at)}</Row>
        <Row term="Uptime">{formatUptime(data.uptime_seconds)}</Row>
      </dl>
    );
  }

  return <Card title="Server">{body}</Card>;
}
