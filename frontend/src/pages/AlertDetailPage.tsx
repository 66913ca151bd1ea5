import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { Link, useParams } from 'react-router';
import { getAlert } from '../api/alerts';
import { queryTelemetry } from '../api/telemetry';
import type { AlertDetail, AlertUser } from '../api/types';
import { Card } from '../components/Card';
import { buttonClass, Field } from '../components/Form';
import { formatDateTime, formatValue } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { AlertStatusBadge, SeverityBadge } from '../components/SeverityBadge';
import { StatusBadge } from '../components/StatusBadge';
import { TableHead } from '../components/TableHead';
import { displayZone, zoneNote } from '../components/timeZone';
import { alertKeys, useAlertFeed } from '../hooks/useAlertFeed';
import { AlertActionButtons, AlertActionDialog, type AlertAction } from './alertActions';
import { FeedBadge } from './AlertsPage';

const AlertChart = lazy(() => import('./AlertChart'));

/** How much of the parameter is charted before the alert started and after it ended. */
export const CHART_MARGIN_MS = 3_600_000;

const who = (user: AlertUser | null) => (user ? user.name || user.email : null);
const number = (n: number | null) => (n === null ? '—' : formatValue(n, null));

/** The charted range: an hour before the start to an hour after the end (or now). */
export function chartRange(alert: AlertDetail, now: number): { from: number; to: number } {
  const started = Date.parse(alert.started_at);
  const ended = alert.resolved_at ? Date.parse(alert.resolved_at) : now;
  return { from: started - CHART_MARGIN_MS, to: Math.min(now, ended + CHART_MARGIN_MS) };
}

function Details({ alert }: { alert: AlertDetail }) {
  return (
    <dl className="divide-y divide-slate-100">
      <Field term="Severity">
        <SeverityBadge severity={alert.severity} />
        {alert.escalated_at ? (
          <span className="ml-2 text-xs text-slate-500">
            escalated {formatDateTime(alert.escalated_at)}
          </span>
        ) : null}
      </Field>
      <Field term="Status">
        <AlertStatusBadge status={alert.status} />
      </Field>
      <Field term="Rule">
        <Link to={`/rules/${alert.rule_id}`} className="text-sky-800 hover:underline">
          {alert.rule_name}
        </Link>
      </Field>
      <Field term="Machine">
        <Link
          to={`/machines/${encodeURIComponent(alert.device_id)}`}
          className="font-mono text-sky-800 hover:underline"
        >
          {alert.device_id}
        </Link>
      </Field>
      <Field term="Message">{alert.message || '—'}</Field>
      <Field term="Parameter">
        <span className="font-mono">{alert.parameter ?? '—'}</span>
      </Field>
      <Field term="Triggering value">
        <span data-testid="alert-value">{number(alert.value)}</span>
      </Field>
      <Field term="Threshold">
        <span data-testid="alert-threshold">{number(alert.threshold)}</span>
      </Field>
      <Field term="Last value">{number(alert.last_value)}</Field>
      <Field term="Started">{formatDateTime(alert.started_at)}</Field>
      <Field term="Acknowledged">
        <span data-testid="alert-acknowledged">
          {alert.acknowledged_at
            ? `${formatDateTime(alert.acknowledged_at)}${who(alert.acknowledged_by) ? ` by ${who(alert.acknowledged_by)}` : ''}`
            : '—'}
        </span>
        {alert.ack_comment ? (
          <span className="block text-slate-600" data-testid="ack-comment">
            “{alert.ack_comment}”
          </span>
        ) : null}
      </Field>
      <Field term="Resolved">
        {alert.resolved_at
          ? `${formatDateTime(alert.resolved_at)} ${
              alert.resolution === 'auto'
                ? '(cleared by itself)'
                : who(alert.resolved_by)
                  ? `by ${who(alert.resolved_by)}`
                  : ''
            }`
          : '—'}
        {alert.resolve_comment ? (
          <span className="block text-slate-600">“{alert.resolve_comment}”</span>
        ) : null}
      </Field>
    </dl>
  );
}

function ParameterChart({ alert }: { alert: AlertDetail }) {
  // Fixed when the alert is first shown (and when it changes), not on every render.
  const [now] = useState(() => Date.now());
  const range = chartRange(alert, now);
  const parameter = alert.parameter;
  const query = {
    params: parameter ? [parameter] : [],
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    agg: 'avg' as const,
    interval: 'auto',
    max_points: 500,
  };
  const telemetry = useQuery({
    queryKey: ['telemetry', alert.device_id, query],
    queryFn: ({ signal }) => queryTelemetry(alert.device_id, query, signal),
    enabled: parameter !== null,
  });
  if (parameter === null)
    return (
      <EmptyPanel message="This alert watches no single parameter, so there is nothing to chart." />
    );
  if (telemetry.isPending) return <LoadingRows rows={5} label="Loading the parameter…" />;
  if (telemetry.isError)
    return (
      <ErrorPanel
        title="The parameter's readings are unavailable"
        error={telemetry.error}
        onRetry={() => void telemetry.refetch()}
        retrying={telemetry.isFetching}
      />
    );
  const points = telemetry.data.series.find((s) => s.param === parameter)?.points ?? [];
  const zone = displayZone(telemetry.data.timezone);
  return (
    <figure data-testid="alert-chart" aria-label={`${parameter} around the alert`}>
      {points.length === 0 ? (
        <EmptyPanel message="No readings of this parameter around the alert." />
      ) : (
        <Suspense fallback={<LoadingRows rows={5} label="Loading chart…" />}>
          <AlertChart
            points={points}
            from={range.from}
            to={range.to}
            threshold={alert.threshold}
            startedAt={Date.parse(alert.started_at)}
            resolvedAt={alert.resolved_at ? Date.parse(alert.resolved_at) : null}
            zone={zone.zone}
          />
        </Suspense>
      )}
      <figcaption className="mt-2 text-xs text-slate-500">
        <span className="font-mono">{parameter}</span> from an hour before the alert to an hour
        after it ended (or now)
        {alert.threshold !== null ? `, threshold ${formatValue(alert.threshold, null)} dashed` : ''}
        . {zoneNote(zone)}
      </figcaption>
    </figure>
  );
}

function NotificationLog({ alert }: { alert: AlertDetail }) {
  if (alert.notifications.length === 0)
    return <EmptyPanel message="Nobody has been notified about this alert (yet)." />;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" aria-label="Notification log">
        <TableHead
          columns={['When', 'Event', 'Channel', 'Recipient', 'Result', 'Attempt', 'Detail']}
          flushLast
        />
        <tbody className="divide-y divide-slate-100">
          {alert.notifications.map((n) => (
            <tr key={String(n.id)} data-testid="notification">
              <td className="py-1.5 pr-3 text-xs whitespace-nowrap">
                {formatDateTime(n.attempted_at)}
              </td>
              <td className="py-1.5 pr-3 text-xs">{n.event}</td>
              <td className="py-1.5 pr-3 text-xs">
                {n.channel === 'in_app' ? 'in-app' : n.channel}
              </td>
              <td className="py-1.5 pr-3 font-mono text-xs">{n.recipient}</td>
              <td className="py-1.5 pr-3">
                <StatusBadge tone={n.result === 'sent' ? 'good' : 'bad'} label={n.result} />
              </td>
              <td className="py-1.5 pr-3 text-xs">{n.attempt}</td>
              <td className="py-1.5 text-xs break-words">{n.detail ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AlertDetailPage() {
  const { alertId = '' } = useParams();
  const id = Number(alertId);
  const validId = Number.isInteger(id) && id > 0;
  const feed = useAlertFeed();
  const [acting, setActing] = useState<AlertAction | null>(null);
  const alert = useQuery({
    queryKey: alertKeys.detail(validId ? id : 0),
    queryFn: ({ signal }) => getAlert(id, signal),
    enabled: validId,
  });

  let body;
  if (!validId) body = <EmptyPanel message={`There is no alert "${alertId}".`} />;
  else if (alert.isPending) body = <LoadingRows rows={8} label="Loading alert…" />;
  else if (alert.isError)
    body =
      alert.error.status === 404 ? (
        <EmptyPanel message={`There is no alert ${alertId} in this factory.`} />
      ) : (
        <ErrorPanel
          title="The alert is unavailable"
          error={alert.error}
          onRetry={() => void alert.refetch()}
          retrying={alert.isFetching}
        />
      );
  else
    body = (
      <div className="space-y-4">
        <div className="grid items-start gap-4 xl:grid-cols-2">
          <Card title="Alert">
            <Details alert={alert.data} />
          </Card>
          <Card title="Parameter around the alert">
            <ParameterChart key={alert.data.resolved_at ?? 'open'} alert={alert.data} />
          </Card>
        </div>
        <Card title="Notifications">
          <NotificationLog alert={alert.data} />
        </Card>
      </div>
    );

  return (
    <>
      <title>{`Alert ${alertId} · FactoryOps`}</title>
      <p className="mb-2 text-sm">
        <Link to="/alerts" className="text-sky-800 hover:underline">
          ← Alerts
        </Link>
      </p>
      <div className="mb-4 flex flex-wrap items-start justify-between gap-4">
        <h1 className="text-xl font-semibold text-slate-900">
          {alert.data ? `${alert.data.rule_name} on ${alert.data.device_id}` : `Alert ${alertId}`}
        </h1>
        <div className="flex flex-col items-end gap-2">
          <FeedBadge state={feed.state} />
          {alert.data ? (
            <div className="flex gap-2">
              <AlertActionButtons
                alert={alert.data}
                className={buttonClass.secondary}
                onAction={setActing}
              />
            </div>
          ) : null}
        </div>
      </div>
      {body}
      {acting && alert.data ? (
        <AlertActionDialog alert={alert.data} action={acting} onClose={() => setActing(null)} />
      ) : null}
    </>
  );
}
