import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { listAlerts } from '../api/alerts';
import { listAllDevices } from '../api/devices';
import { listRules } from '../api/rules';
import {
  alertStatuses,
  severities,
  type Alert,
  type AlertStatus,
  type Severity,
} from '../api/types';
import { Card } from '../components/Card';
import { buttonClass, FilterSelect, inputClass } from '../components/Form';
import { formatDateTime, formatValue } from '../components/format';
import { Pager } from '../components/Pager';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { AlertStatusBadge, SeverityBadge } from '../components/SeverityBadge';
import { StatusBadge } from '../components/StatusBadge';
import { TableHead } from '../components/TableHead';
import { alertKeys, useAlertFeed } from '../hooks/useAlertFeed';
import { useSearchParamState } from '../hooks/useSearchParamState';
import type { LiveConnectionState } from '../live/liveSocket';
import { AlertActionButtons, AlertActionDialog, type AlertAction } from './alertActions';

export const ALERTS_PAGE_SIZE = 50;
/** Rules offered in the filter; a factory with more can still filter by a link's rule_id. */
const RULE_FILTER_LIMIT = 200;

/** `datetime-local` text (browser time) to RFC 3339 UTC, or undefined when empty or invalid. */
function toUtc(local: string): string | undefined {
  if (local === '') return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** A comma list of the address, keeping only known values, in their canonical order. */
function listParam<T extends string>(value: string | null, known: readonly T[]): T[] {
  const given = (value ?? '').split(',');
  return known.filter((k) => given.includes(k));
}

export function FeedBadge({ state }: { state: LiveConnectionState }) {
  const live = state === 'live';
  return (
    <span className="flex items-center gap-2 text-xs text-slate-500">
      Live updates
      <StatusBadge
        tone={live ? 'good' : state === 'connecting' ? 'neutral' : 'warn'}
        label={live ? 'live' : state === 'connecting' ? 'connecting…' : 'reconnecting…'}
        testId="live-state"
      />
    </span>
  );
}

export function alertValue(alert: Pick<Alert, 'value' | 'threshold'>): string {
  if (alert.value === null) return '—';
  const value = formatValue(alert.value, null);
  return alert.threshold === null
    ? value
    : `${value} (threshold ${formatValue(alert.threshold, null)})`;
}

function CheckList<T extends string>({
  legend,
  values,
  chosen,
  onChange,
}: {
  legend: string;
  values: readonly T[];
  chosen: T[];
  onChange: (next: T[]) => void;
}) {
  return (
    <fieldset className="text-xs text-slate-600">
      <legend>{legend}</legend>
      <div className="mt-1 flex flex-wrap gap-x-3 gap-y-1">
        {values.map((value) => (
          <label key={value} className="flex items-center gap-1 text-sm text-slate-800">
            <input
              type="checkbox"
              checked={chosen.includes(value)}
              onChange={(event) =>
                onChange(
                  event.target.checked ? [...chosen, value] : chosen.filter((v) => v !== value),
                )
              }
            />
            {value}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function AlertsPage() {
  const [params, setParam] = useSearchParamState();
  const status = listParam<AlertStatus>(params.get('status'), alertStatuses);
  const severity = listParam<Severity>(params.get('severity'), severities);
  const deviceId = params.get('device_id') ?? '';
  const ruleId = params.get('rule_id') ?? '';
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const offset = Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0);
  const rangeError =
    from !== '' && to !== '' && from > to ? 'The start of the range is after its end.' : null;
  const [acting, setActing] = useState<{ alert: Alert; action: AlertAction } | null>(null);
  const feed = useAlertFeed();

  const devices = useQuery({
    queryKey: ['devices', 'all'],
    queryFn: ({ signal }) => listAllDevices(signal),
  });
  const rules = useQuery({
    queryKey: ['rules', 'list', { limit: RULE_FILTER_LIMIT, offset: 0 }],
    queryFn: ({ signal }) => listRules({ limit: RULE_FILTER_LIMIT, offset: 0 }, signal),
  });
  const deviceOptions = (devices.data ?? []).map((d) => d.device_id);
  if (deviceId !== '' && !deviceOptions.includes(deviceId)) deviceOptions.push(deviceId);
  const ruleOptions = (rules.data?.items ?? []).map((r) => ({
    value: String(r.id),
    label: r.name,
  }));
  if (ruleId !== '' && !ruleOptions.some((o) => o.value === ruleId)) {
    ruleOptions.push({ value: ruleId, label: `Rule ${ruleId}` });
  }

  const query = {
    status,
    severity,
    device_id: deviceId,
    rule_id: ruleId,
    from: toUtc(from),
    to: toUtc(to),
    limit: ALERTS_PAGE_SIZE,
    offset,
  };
  const alerts = useQuery({
    queryKey: alertKeys.list(query),
    queryFn: ({ signal }) => listAlerts(query, signal),
    placeholderData: keepPreviousData,
    enabled: rangeError === null,
  });
  const filtered =
    status.length + severity.length > 0 ||
    deviceId !== '' ||
    ruleId !== '' ||
    from !== '' ||
    to !== '';

  let body;
  if (rangeError) body = <EmptyPanel message={rangeError} />;
  else if (alerts.isPending) body = <LoadingRows rows={6} label="Loading alerts…" />;
  else if (alerts.isError)
    body = (
      <ErrorPanel
        title="The alert list is unavailable"
        error={alerts.error}
        onRetry={() => void alerts.refetch()}
        retrying={alerts.isFetching}
      />
    );
  else if (alerts.data.items.length === 0)
    body = (
      <EmptyPanel
        message={
          filtered
            ? 'No alert matches these filters.'
            : 'No alerts yet. They appear here when a rule fires.'
        }
      />
    );
  else
    body = (
      <>
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <TableHead
              columns={['Severity', 'Status', 'Rule', 'Machine', 'Value', 'Started']}
              actions
            />
            <tbody className="divide-y divide-slate-100">
              {alerts.data.items.map((alert) => (
                <tr key={alert.id} data-testid={`alert-row-${alert.id}`}>
                  <td className="py-2 pr-3">
                    <SeverityBadge severity={alert.severity} />
                  </td>
                  <td className="py-2 pr-3">
                    <AlertStatusBadge status={alert.status} />
                  </td>
                  <td className="py-2 pr-3">
                    <Link to={`/alerts/${alert.id}`} className="text-sky-800 hover:underline">
                      {alert.rule_name}
                    </Link>
                    {alert.message ? (
                      <span className="block text-xs text-slate-500">{alert.message}</span>
                    ) : null}
                  </td>
                  <td className="py-2 pr-3 font-mono text-xs">
                    <Link
                      to={`/machines/${encodeURIComponent(alert.device_id)}`}
                      className="text-sky-800 hover:underline"
                    >
                      {alert.device_id}
                    </Link>
                  </td>
                  <td className="py-2 pr-3 font-mono text-xs">
                    {alert.parameter ? `${alert.parameter}: ` : ''}
                    {alertValue(alert)}
                  </td>
                  <td className="py-2 pr-3 text-xs whitespace-nowrap">
                    {formatDateTime(alert.started_at)}
                  </td>
                  <td className="space-x-1 py-2 whitespace-nowrap">
                    <AlertActionButtons
                      alert={alert}
                      compact
                      className={buttonClass.small}
                      onAction={(action) => setActing({ alert, action })}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager
          offset={offset}
          limit={ALERTS_PAGE_SIZE}
          total={alerts.data.total}
          shown={alerts.data.items.length}
          onChange={(value) => setParam('offset', value === 0 ? '' : String(value))}
        />
      </>
    );

  return (
    <>
      <title>Alerts · FactoryOps</title>
      <div className="mb-4 flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold text-slate-900">Alerts</h1>
          <p className="text-sm text-slate-500">What the rules raised, newest first.</p>
        </div>
        <FeedBadge state={feed.state} />
      </div>
      <Card
        title="Alert list"
        meta={alerts.isFetching && !alerts.isPending ? 'Updating…' : undefined}
      >
        <div className="mb-3 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          <CheckList
            legend="Status"
            values={alertStatuses}
            chosen={status}
            onChange={(next) => setParam('status', next.join(','))}
          />
          <CheckList
            legend="Severity"
            values={severities}
            chosen={severity}
            onChange={(next) => setParam('severity', next.join(','))}
          />
          <FilterSelect
            label="Machine"
            value={deviceId}
            onChange={(value) => setParam('device_id', value)}
            allLabel="All machines"
            options={deviceOptions.map((id) => ({ value: id, label: id }))}
          />
          <FilterSelect
            label="Rule"
            value={ruleId}
            onChange={(value) => setParam('rule_id', value)}
            allLabel="All rules"
            options={ruleOptions}
          />
          <label className="text-xs text-slate-600">
            Started from
            <input
              type="datetime-local"
              value={from}
              onChange={(e) => setParam('from', e.target.value)}
              className={inputClass(rangeError !== null)}
            />
          </label>
          <label className="text-xs text-slate-600">
            Started until
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
      {acting ? (
        <AlertActionDialog
          alert={acting.alert}
          action={acting.action}
          onClose={() => setActing(null)}
        />
      ) : null}
    </>
  );
}
