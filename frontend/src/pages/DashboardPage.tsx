import { lazy, memo, Suspense } from 'react';
import { Link } from 'react-router';
import { severities, type DeviceStatus } from '../api/types';
import { Card } from '../components/Card';
import { formatAgo, formatValue } from '../components/format';
import { ErrorPanel, EmptyPanel, LoadingRows } from '../components/QueryStates';
import { ServerInfoCard } from '../components/ServerInfoCard';
import { StatusBadge, type BadgeTone } from '../components/StatusBadge';
import { SystemStatusCard } from '../components/SystemStatusCard';
import { displayZone, formatInZone, zoneNote } from '../components/timeZone';
import { useAlertCounts } from '../hooks/useAlertFeed';
import { POLL_MS, useFleetPower } from '../hooks/useFleetPower';
import { useNow } from '../hooks/useNow';
import type { LiveConnectionState } from '../live/liveSocket';
import { POWER_PARAM, POWER_UNIT, type FleetNow, type MachineNow } from './fleetPower';

// The charting library is loaded with the chart, so the dashboard's first paint stays light.
const FleetPowerChart = lazy(() => import('./FleetPowerChart'));

const machinePath = (deviceId: string) => `/machines/${encodeURIComponent(deviceId)}`;

const feedBadge: Record<LiveConnectionState, { tone: BadgeTone; label: string }> = {
  live: { tone: 'good', label: 'live' },
  connecting: { tone: 'neutral', label: 'connecting…' },
  reconnecting: { tone: 'warn', label: 'reconnecting…' },
  offline: { tone: 'bad', label: 'offline' },
  stopped: { tone: 'bad', label: 'offline' },
};

const statusBadge: Record<DeviceStatus, { tone: BadgeTone; label: string }> = {
  online: { tone: 'good', label: 'online' },
  offline: { tone: 'bad', label: 'offline' },
  unknown: { tone: 'neutral', label: 'never seen' },
};

const power = (kw: number) => formatValue(kw, POWER_UNIT);

function FeedState({ state }: { state: LiveConnectionState }) {
  const badge = feedBadge[state];
  return (
    <div className="flex flex-col items-end gap-1 text-right">
      <span className="flex items-center gap-2 text-xs text-slate-500">
        Live updates
        <StatusBadge tone={badge.tone} label={badge.label} testId="live-state" />
      </span>
      {state === 'live' ? null : (
        <span className="text-xs text-slate-500" data-testid="polling-note">
          Refreshing every {POLL_MS / 1000} s until live updates resume.
        </span>
      )}
    </div>
  );
}

/** "12 s ago", ticking each second; the full time in the factory's zone on hover. */
function LastSeen({ at, zone }: { at: number | null; zone: string }) {
  const now = useNow(1_000);
  if (at === null) return <span>never</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatInZone(at, zone)}>
      {formatAgo(at, now)}
    </time>
  );
}

function MachinesCard({ fleet }: { fleet: FleetNow }) {
  const count = fleet.machines.length;
  return (
    <Card title="Machines">
      <div className="flex items-baseline justify-between gap-4">
        <span data-testid="machine-count" className="text-3xl font-semibold text-slate-900">
          {count}
        </span>
        <Link to="/machines" className="text-sm text-sky-800 hover:underline">
          {count === 0 ? 'Register a machine' : 'View machines'}
        </Link>
      </div>
      {count > 0 ? (
        <p className="mt-2 flex flex-wrap gap-x-4 text-sm text-slate-600">
          <span>
            <span data-testid="machines-online" className="font-semibold text-emerald-800">
              {fleet.online}
            </span>{' '}
            online
          </span>
          <span>
            <span data-testid="machines-offline" className="font-semibold text-red-800">
              {fleet.offline}
            </span>{' '}
            offline
            {fleet.neverSeen > 0 ? ` (${fleet.neverSeen} never seen)` : ''}
          </span>
        </p>
      ) : null}
    </Card>
  );
}

/** Where the count links to: the alerts still needing attention. */
export const ACTIVE_ALERTS_PATH = '/alerts?status=open,acknowledged';

/** Unresolved alerts; live alert messages refresh it, and it polls while the feed is down. */
function ActiveAlertsCard({ live }: { live: boolean }) {
  const counts = useAlertCounts(live ? false : POLL_MS);
  let body;
  if (counts.isPending) body = <LoadingRows rows={1} label="Loading alerts…" />;
  else if (counts.isError && !counts.data)
    body = (
      <ErrorPanel
        title="The alert counts are unavailable"
        error={counts.error}
        onRetry={() => void counts.refetch()}
        retrying={counts.isFetching}
      />
    );
  else {
    const { open, acknowledged, by_severity: bySeverity } = counts.data;
    const active = open + acknowledged;
    body = (
      <>
        <div className="flex items-baseline justify-between gap-4">
          <span
            data-testid="active-alerts"
            className={`text-3xl font-semibold ${active > 0 ? 'text-red-800' : 'text-slate-900'}`}
          >
            {active}
          </span>
          <Link to={ACTIVE_ALERTS_PATH} className="text-sm text-sky-800 hover:underline">
            {active === 0 ? 'View alerts' : 'View active alerts'}
          </Link>
        </div>
        <p className="mt-2 text-sm text-slate-600" data-testid="active-alerts-detail">
          {active === 0
            ? 'Nothing needs attention.'
            : `${open} open, ${acknowledged} acknowledged${severities
                .filter((s) => (bySeverity[s] ?? 0) > 0)
                .map((s) => ` · ${bySeverity[s]} ${s}`)
                .join('')}`}
        </p>
      </>
    );
  }
  return <Card title="Active alerts">{body}</Card>;
}

function FactoryPowerCard({
  fleet,
  query,
}: {
  fleet: FleetNow;
  query: ReturnType<typeof useFleetPower>['powerWindow'];
}) {
  const reporting = fleet.machines.filter(
    (m) => m.status === 'online' && m.powerKw !== null,
  ).length;
  let body;
  if (query.isPending) body = <LoadingRows rows={1} label="Loading power…" />;
  else if (query.isError && !query.data)
    body = (
      <ErrorPanel
        title="The power readings are unavailable"
        error={query.error}
        onRetry={() => void query.refetch()}
        retrying={query.isFetching}
      />
    );
  else
    body = (
      <>
        <span data-testid="factory-power" className="text-3xl font-semibold text-slate-900">
          {power(fleet.totalKw)}
        </span>
        <p className="mt-2 text-sm text-slate-600">
          Sum of the latest <span className="font-mono text-xs">{POWER_PARAM}</span> of the{' '}
          {reporting} online {reporting === 1 ? 'machine' : 'machines'} reporting it.
        </p>
      </>
    );
  return <Card title="Factory power">{body}</Card>;
}

function TopConsumers({ fleet }: { fleet: FleetNow }) {
  if (fleet.top.length === 0) {
    return <EmptyPanel message="No online machine reports its power." />;
  }
  return (
    <ol aria-label="Top consumers" className="space-y-2">
      {fleet.top.map((machine) => {
        const share = fleet.totalKw > 0 ? (machine.powerKw! / fleet.totalKw) * 100 : 0;
        return (
          <li key={machine.deviceId} data-testid="top-consumer" className="text-sm">
            <div className="flex items-baseline justify-between gap-2">
              <Link to={machinePath(machine.deviceId)} className="text-sky-800 hover:underline">
                {machine.name}
              </Link>
              <span className="font-mono text-xs text-slate-700">{power(machine.powerKw!)}</span>
            </div>
            <div aria-hidden="true" className="mt-1 h-1.5 rounded bg-slate-100">
              <div
                className="h-1.5 rounded bg-sky-600"
                style={{ width: `${Math.min(100, Math.max(0, share))}%` }}
              />
            </div>
          </li>
        );
      })}
    </ol>
  );
}

/** One machine; memoised on plain values, so a reading re-renders only the tile it is about. */
const MachineTile = memo(function MachineTile({
  deviceId,
  name,
  status,
  powerKw,
  lastSeenAt,
  zone,
}: Omit<MachineNow, 'powerAt'> & { zone: string }) {
  const badge = statusBadge[status];
  const online = status === 'online';
  return (
    <li
      aria-label={name}
      data-testid={`machine-tile-${deviceId}`}
      className="rounded-md border border-slate-200 p-3"
    >
      <div className="flex items-start justify-between gap-2">
        <div className="min-w-0">
          <Link
            to={machinePath(deviceId)}
            className="block truncate text-sm font-semibold text-sky-800 hover:underline"
          >
            {name}
          </Link>
          <span className="block truncate font-mono text-xs text-slate-500">{deviceId}</span>
        </div>
        <StatusBadge tone={badge.tone} label={badge.label} testId="machine-status" />
      </div>
      <p
        data-testid="machine-power"
        className={`mt-2 text-xl font-semibold ${online ? 'text-slate-900' : 'text-slate-400'}`}
        title={online ? undefined : 'The last reading before the machine went offline'}
      >
        {powerKw === null ? '—' : power(powerKw)}
      </p>
      <p className="text-xs text-slate-500">
        Last seen <LastSeen at={lastSeenAt} zone={zone} />
      </p>
    </li>
  );
});

function NoMachines() {
  return (
    <div className="rounded-md border border-dashed border-slate-300 px-3 py-6 text-center text-sm text-slate-600">
      <p>No machines are registered in this factory yet.</p>
      <p className="mt-1">
        <Link to="/machines" className="text-sky-800 hover:underline">
          Register a machine on the Machines page
        </Link>{' '}
        and its power shows here as soon as it reports.
      </p>
    </div>
  );
}

function FactoryLive() {
  const { devices, powerWindow, feed, fleet, history, samples } = useFleetPower();
  const zone = displayZone(powerWindow.data?.timezone);

  let body;
  if (devices.isPending) body = <LoadingRows rows={4} label="Loading machines…" />;
  else if (devices.isError)
    body = (
      <ErrorPanel
        title="The machines are unavailable"
        error={devices.error}
        onRetry={() => void devices.refetch()}
        retrying={devices.isFetching}
      />
    );
  else if (fleet.machines.length === 0)
    body = (
      <div className="grid items-start gap-4 lg:grid-cols-2">
        <MachinesCard fleet={fleet} />
        <NoMachines />
      </div>
    );
  else {
    let chart;
    if (powerWindow.isPending) chart = <LoadingRows rows={6} label="Loading power history…" />;
    else if (powerWindow.isError && !powerWindow.data)
      chart = (
        <ErrorPanel
          title="The power history is unavailable"
          error={powerWindow.error}
          onRetry={() => void powerWindow.refetch()}
          retrying={powerWindow.isFetching}
        />
      );
    else
      chart = (
        <figure aria-label="Factory power, last 15 minutes" data-testid="power-chart">
          <Suspense fallback={<LoadingRows rows={6} label="Loading chart…" />}>
            <FleetPowerChart history={history} samples={samples} zone={zone.zone} />
          </Suspense>
          <figcaption className="mt-2 text-xs text-slate-500" data-testid="chart-timezone">
            {zoneNote(zone)}
          </figcaption>
        </figure>
      );
    body = (
      <div className="space-y-4">
        <div className="grid items-start gap-4 lg:grid-cols-2">
          <FactoryPowerCard fleet={fleet} query={powerWindow} />
          <MachinesCard fleet={fleet} />
        </div>
        <div className="grid items-start gap-4 lg:grid-cols-3">
          <Card title="Power, last 15 minutes" className="lg:col-span-2">
            {chart}
          </Card>
          <Card title="Top consumers">
            <TopConsumers fleet={fleet} />
          </Card>
        </div>
        <Card title="All machines">
          <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-4">
            {fleet.machines.map((machine) => (
              <MachineTile
                key={machine.deviceId}
                deviceId={machine.deviceId}
                name={machine.name}
                status={machine.status}
                powerKw={machine.powerKw}
                lastSeenAt={machine.lastSeenAt}
                zone={zone.zone}
              />
            ))}
          </ul>
        </Card>
      </div>
    );
  }

  return (
    <>
      <div className="mb-4 flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold text-slate-900">Dashboard</h1>
          <p className="text-sm text-slate-500">Live power and status of the factory's machines.</p>
        </div>
        <FeedState state={feed.state} />
      </div>
      <div className="mb-4 grid items-start gap-4 lg:grid-cols-2">
        <ActiveAlertsCard live={feed.state === 'live'} />
      </div>
      {feed.serverError ? (
        <p role="alert" className="mb-4 text-sm text-red-800">
          Live updates: {feed.serverError.message || feed.serverError.code}
        </p>
      ) : null}
      {body}
    </>
  );
}

export function DashboardPage() {
  return (
    <>
      <title>Dashboard · FactoryOps</title>
      <FactoryLive />
      <div className="mt-4 grid items-start gap-4 lg:grid-cols-2">
        <SystemStatusCard />
        <ServerInfoCard />
      </div>
    </>
  );
}
