import type { DependencyState, HealthStatus } from '../api/types';
import { useHealth } from '../hooks/useHealth';
import { Card } from './Card';
import { formatTime } from './format';
import { EmptyPanel, ErrorPanel, LoadingRows } from './QueryStates';
import { StatusBadge, type BadgeTone } from './StatusBadge';

const overallTone: Record<HealthStatus, BadgeTone> = {
  healthy: 'good',
  degraded: 'warn',
  unhealthy: 'bad',
};

const dependencyTone: Record<DependencyState, BadgeTone> = { ok: 'good', down: 'bad' };

/** Overall health and each dependency of the server, from `GET /health`. */
export function SystemStatusCard() {
  const health = useHealth();

  const meta = health.dataUpdatedAt ? (
    <span aria-live="off">
      {health.isFetching ? 'Refreshing… · ' : ''}Checked {formatTime(health.dataUpdatedAt)}
    </span>
  ) : null;

  let body;
  if (health.isPending) {
    body = <LoadingRows label="Loading system status…" />;
  } else if (health.isError) {
    body = (
      <ErrorPanel
        title="System status is unavailable"
        error={health.error}
        onRetry={() => void health.refetch()}
        retrying={health.isFetching}
      />
    );
  } else {
    const report = health.data;
    const dependencies = Object.entries(report.dependencies).sort(([a], [b]) => a.localeCompare(b));
    body = (
      <div className="space-y-4">
        <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
          <span className="text-sm text-slate-600">Overall</span>
          <StatusBadge
            tone={overallTone[report.status]}
            label={report.status}
            testId="overall-status"
          />
          <span className="text-xs text-slate-500">
            service <span className="font-mono">{report.service}</span>
          </span>
        </div>
        <div>
          <h3 className="mb-2 text-xs font-semibold tracking-wider text-slate-500 uppercase">
            Dependencies
          </h3>
          {dependencies.length === 0 ? (
            <EmptyPanel message="The server reports no dependencies." />
          ) : (
            <ul className="divide-y divide-slate-100 rounded-md border border-slate-200">
              {dependencies.map(([name, state]) => (
                <li
                  key={name}
                  data-testid={`dependency-${name}`}
                  className="flex items-center justify-between px-3 py-1.5"
                >
                  <span className="font-mono text-sm text-slate-800">{name}</span>
                  <StatusBadge tone={dependencyTone[state]} label={state} />
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    );
  }

  return (
    <Card title="System status" meta={meta}>
      {body}
    </Card>
  );
}
