import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Device } from '../api/types';
import { POLL_MS } from '../hooks/useFleetPower';
import { HEALTH_REFRESH_MS } from '../hooks/useHealth';
import { FakeWebSocket } from '../test/fakeWebSocket';
import {
  healthyReport,
  mockServer,
  renderApp,
  signInAs,
  systemInfo,
  tokens,
  viewerAdmin,
} from '../test/render';

function card(name: string) {
  return screen.getByRole('region', { name });
}

describe('DashboardPage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(viewerAdmin);
    server.onGet('/api/v1/devices').reply(200, { items: [], total: 0, limit: 500, offset: 0 });
  });
  afterEach(() => server.restore());

  it('shows the overall status and a badge per dependency from /health', async () => {
    server.onGet('/health').reply(503, {
      status: 'degraded',
      service: 'factoryops',
      dependencies: { metadata_db: 'ok', redis: 'down', mqtt: 'ok' },
    });
    server.onGet('/api/v1/system/info').reply(200, systemInfo);
    renderApp('/');

    const status = card('System status');
    expect(await within(status).findByTestId('overall-status')).toHaveTextContent('degraded');
    expect(within(status).getByTestId('dependency-redis')).toHaveTextContent('redisdown');
    expect(within(status).getByTestId('dependency-metadata_db')).toHaveTextContent('metadata_dbok');
    const names = within(status)
      .getAllByRole('listitem')
      .map((item) => item.firstElementChild?.textContent);
    expect(names).toEqual(['metadata_db', 'mqtt', 'redis']);
  });

  it('shows version, roles and uptime from /api/v1/system/info', async () => {
    server.onGet('/health').reply(200, healthyReport);
    server.onGet('/api/v1/system/info').reply(200, systemInfo);
    renderApp('/');

    const server_ = card('Server');
    expect(await within(server_).findByTestId('server-version')).toHaveTextContent('0.3.1');
    expect(within(server_).getByText('api')).toBeInTheDocument();
    expect(within(server_).getByText('telemetry')).toBeInTheDocument();
    expect(within(server_).getByText('SQLite')).toBeInTheDocument();
    expect(within(server_).getByText('1 h 2 min')).toBeInTheDocument();
  });

  it('shows loading skeletons until the server answers', async () => {
    server.onGet('/health').reply(() => new Promise(() => {}));
    server.onGet('/api/v1/system/info').reply(() => new Promise(() => {}));
    renderApp('/');
    expect(await within(card('System status')).findByRole('status')).toHaveTextContent(
      'Loading system status…',
    );
    expect(within(card('Server')).getByRole('status')).toHaveTextContent(
      'Loading server information…',
    );
  });

  it('says so when the server lists no dependencies', async () => {
    server.onGet('/health').reply(200, { status: 'healthy', service: 'f', dependencies: {} });
    server.onGet('/api/v1/system/info').reply(200, { ...systemInfo, roles: [] });
    renderApp('/');
    expect(
      await within(card('System status')).findByText('The server reports no dependencies.'),
    ).toBeInTheDocument();
    expect(within(card('Server')).getByText('No roles reported')).toBeInTheDocument();
  });

  it('shows the error with a retry button that fetches again', async () => {
    server.onGet('/health').networkErrorOnce();
    server.onGet('/health').reply(200, healthyReport);
    server.onGet('/api/v1/system/info').reply(500, {
      error: { code: 'internal', message: 'Database is locked.', request_id: 'req-77' },
    });
    renderApp('/');

    const status = card('System status');
    const alert = await within(status).findByRole('alert');
    expect(alert).toHaveTextContent('Cannot reach the FactoryOps server.');

    const info = await within(card('Server')).findByRole('alert');
    expect(info).toHaveTextContent('Database is locked.');
    expect(info).toHaveTextContent('Request ID: req-77');

    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await within(status).findByTestId('overall-status')).toHaveTextContent('healthy');
    expect(server.history.get.filter((r) => r.url === '/health')).toHaveLength(2);
  });

  it('polls /health every ten seconds', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      server.onGet('/health').reply(200, healthyReport);
      server.onGet('/api/v1/system/info').reply(200, systemInfo);
      renderApp('/');
      await screen.findByTestId('overall-status');
      const healthCalls = () => server.history.get.filter((r) => r.url === '/health').length;
      expect(healthCalls()).toBe(1);

      await vi.advanceTimersByTimeAsync(HEALTH_REFRESH_MS - 500);
      expect(healthCalls()).toBe(1);
      await vi.advanceTimersByTimeAsync(1_000);
      await waitFor(() => expect(healthCalls()).toBe(2));
    } finally {
      vi.useRealTimers();
    }
  });
});

function machine(
  id: string,
  name: string,
  status: Device['status'],
  lastSeenMsAgo?: number,
): Device {
  return {
    device_id: id,
    name,
    type: null,
    location: null,
    line: null,
    rated_power_kw: null,
    metadata: null,
    api_key_prefix: 'fo_abcde',
    is_enabled: true,
    status,
    last_seen_at:
      lastSeenMsAgo === undefined ? null : new Date(Date.now() - lastSeenMsAgo).toISOString(),
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  };
}

const machines = [
  machine('press-1', 'Press 1', 'online', 20_000),
  machine('oven-2', 'Oven 2', 'online', 20_000),
  machine('saw-3', 'Saw 3', 'offline', 600_000),
  machine('mill-4', 'Mill 4', 'online', 20_000),
  machine('lathe-5', 'Lathe 5', 'online', 20_000),
  machine('pump-6', 'Pump 6', 'online', 20_000),
  machine('fan-7', 'Fan 7', 'unknown'),
];

/** The latest power of each machine in the window answer (fan-7 has never sent any). */
const latestKw: Record<string, number> = {
  'press-1': 40,
  'oven-2': 25.5,
  'saw-3': 70,
  'mill-4': 12,
  'lathe-5': 8,
  'pump-6': 3,
};
/** How long before the request each machine's last bucket starts: Saw 3 stopped 10 min ago. */
const lastBucketAgo = (id: string) => (id === 'saw-3' ? 600_000 : 10_000);

/** Answers `GET /api/v1/telemetry` with two buckets per machine that has sent power. */
function fleetAnswer(timezone: string | null = 'Asia/Kolkata') {
  return (config: { params?: { devices?: string } }): [number, unknown] => {
    const now = Date.now();
    const ids = (config.params?.devices ?? '').split(',');
    return [
      200,
      {
        param: 'power_kw',
        from: new Date(now - 900_000).toISOString(),
        to: new Date(now).toISOString(),
        interval: '10s',
        agg: 'last',
        timezone,
        series: ids.map((id) => ({
          device_id: id,
          points:
            latestKw[id] === undefined
              ? []
              : [
                  [now - lastBucketAgo(id) - 60_000, 1],
                  [now - lastBucketAgo(id), latestKw[id]],
                ],
        })),
      },
    ];
  };
}

function tile(name: string) {
  return screen.getByRole('listitem', { name });
}

const kw = (value: number) => `${value.toLocaleString()} kW`;

describe('DashboardPage, live factory', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(viewerAdmin, 'access-1', 'refresh-1');
    server.onGet('/health').reply(200, healthyReport);
    server.onGet('/api/v1/system/info').reply(200, systemInfo);
  });
  afterEach(() => server.restore());

  function withMachines(list: Device[] = machines, timezone?: string | null) {
    server
      .onGet('/api/v1/devices')
      .reply(200, { items: list, total: list.length, limit: 500, offset: 0 });
    server.onGet('/api/v1/telemetry').reply(fleetAnswer(timezone));
  }

  it('shows every machine, the factory total of the online ones and the top five', async () => {
    withMachines();
    renderApp('/');

    const total = await screen.findByTestId('factory-power');
    // 40 + 25.5 + 12 + 8 + 3: Saw 3 is offline and Fan 7 has never reported.
    expect(total).toHaveTextContent(kw(88.5));
    const summary = screen.getByRole('region', { name: 'Machines' });
    expect(within(summary).getByTestId('machine-count')).toHaveTextContent('7');
    expect(within(summary).getByTestId('machines-online')).toHaveTextContent('5');
    expect(within(summary).getByTestId('machines-offline')).toHaveTextContent('2');
    expect(summary).toHaveTextContent('(1 never seen)');

    expect(within(tile('Press 1')).getByTestId('machine-power')).toHaveTextContent(kw(40));
    expect(within(tile('Press 1')).getByTestId('machine-status')).toHaveTextContent('online');
    expect(within(tile('Press 1')).getByText(/s ago$/)).toBeInTheDocument();
    expect(within(tile('Saw 3')).getByTestId('machine-status')).toHaveTextContent('offline');
    expect(within(tile('Saw 3')).getByTestId('machine-power')).toHaveTextContent(kw(70));
    expect(within(tile('Saw 3')).getByText(/^(9|10) min( \d+ s)? ago$/)).toBeInTheDocument();
    expect(within(tile('Fan 7')).getByTestId('machine-status')).toHaveTextContent('never seen');
    expect(within(tile('Fan 7')).getByTestId('machine-power')).toHaveTextContent('—');
    expect(within(tile('Fan 7')).getByText('never')).toBeInTheDocument();
    expect(within(tile('Press 1')).getByRole('link', { name: 'Press 1' })).toHaveAttribute(
      'href',
      '/machines/press-1',
    );

    const top = within(screen.getByRole('list', { name: 'Top consumers' }))
      .getAllByRole('listitem')
      .map((item) => within(item).getByRole('link').textContent);
    expect(top).toEqual(['Press 1', 'Oven 2', 'Mill 4', 'Lathe 5', 'Pump 6']);

    const request = server.history.get.find((r) => r.url === '/api/v1/telemetry')!;
    expect(request.params).toMatchObject({
      devices: 'press-1,oven-2,saw-3,mill-4,lathe-5,pump-6,fan-7',
      param: 'power_kw',
      agg: 'last',
      interval: '10s',
    });
    const { from, to } = request.params as { from: number; to: number };
    expect(to - from).toBe(15 * 60_000);
    expect(server.history.get.find((r) => r.url === '/api/v1/devices')!.params).toEqual({
      limit: 500,
      offset: 0,
    });
  });

  it('asks for the power of at most 50 machines per request', async () => {
    const many = Array.from({ length: 120 }, (_, i) =>
      machine(`m-${String(i).padStart(3, '0')}`, `M ${i}`, 'online', 1_000),
    );
    withMachines(many);
    renderApp('/');
    await screen.findByTestId('factory-power');
    const asked = server.history.get
      .filter((r) => r.url === '/api/v1/telemetry')
      .map((r) => (r.params as { devices: string }).devices.split(',').length);
    expect(asked).toEqual([50, 50, 20]);
    expect(screen.getAllByTestId(/^machine-tile-/)).toHaveLength(120);
  });

  it('subscribes to power over the live feed and applies readings and status changes', async () => {
    withMachines();
    renderApp('/');
    await screen.findByTestId('factory-power');
    expect(screen.getByTestId('live-state')).toHaveTextContent('connecting…');

    const ws = FakeWebSocket.latest();
    expect(ws.protocols).toEqual(['factoryops.v1', 'bearer.access-1']);
    act(() => ws.ready());
    expect(ws.messages()).toEqual([{ type: 'subscribe', devices: '*', params: ['power_kw'] }]);
    expect(await screen.findByTestId('live-state')).toHaveTextContent('live');
    expect(screen.queryByTestId('polling-note')).not.toBeInTheDocument();

    act(() => {
      ws.receive({
        type: 'status',
        device_id: 'saw-3',
        online: true,
        last_seen_at: new Date().toISOString(),
      });
      ws.receive({ type: 'reading', device_id: 'saw-3', ts: Date.now(), values: { power_kw: 60 } });
      ws.receive({
        type: 'status',
        device_id: 'press-1',
        online: false,
        last_seen_at: new Date().toISOString(),
      });
    });
    await waitFor(() =>
      expect(within(tile('Saw 3')).getByTestId('machine-status')).toHaveTextContent('online'),
    );
    expect(within(tile('Saw 3')).getByTestId('machine-power')).toHaveTextContent(kw(60));
    expect(within(tile('Press 1')).getByTestId('machine-status')).toHaveTextContent('offline');
    // 25.5 + 60 + 12 + 8 + 3, without Press 1 now.
    expect(screen.getByTestId('factory-power')).toHaveTextContent(kw(108.5));
    expect(screen.getByTestId('machines-online')).toHaveTextContent('5');
    const top = within(screen.getByRole('list', { name: 'Top consumers' }))
      .getAllByRole('listitem')
      .map((item) => within(item).getByRole('link').textContent);
    expect(top).toEqual(['Saw 3', 'Oven 2', 'Mill 4', 'Lathe 5', 'Pump 6']);
  });

  it('renews the token when the feed says 4401 and reconnects with the new one', async () => {
    withMachines();
    server.onPost('/api/v1/auth/refresh').reply(200, tokens(viewerAdmin, 'access-2', 'refresh-2'));
    renderApp('/');
    await screen.findByTestId('factory-power');
    act(() => FakeWebSocket.latest().serverClose(4401, 'token expired'));
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    expect(FakeWebSocket.latest().protocols).toEqual(['factoryops.v1', 'bearer.access-2']);
    act(() => FakeWebSocket.latest().ready());
    expect(await screen.findByTestId('live-state')).toHaveTextContent('live');
  });

  it('polls the REST endpoints every 10 s while the feed is down, and stops once it is live', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      withMachines();
      renderApp('/');
      await screen.findByTestId('factory-power');
      const calls = (url: string) => server.history.get.filter((r) => r.url === url).length;
      act(() => FakeWebSocket.latest().ready());
      await waitFor(() => expect(screen.getByTestId('live-state')).toHaveTextContent('live'));
      await act(() => vi.advanceTimersByTimeAsync(2 * POLL_MS));
      expect(calls('/api/v1/devices')).toBe(1);
      expect(calls('/api/v1/telemetry')).toBe(1);

      act(() => FakeWebSocket.latest().serverClose(1006));
      expect(await screen.findByTestId('live-state')).toHaveTextContent('reconnecting…');
      expect(screen.getByTestId('polling-note')).toHaveTextContent('Refreshing every 10 s');
      await act(() => vi.advanceTimersByTimeAsync(POLL_MS + 100));
      await waitFor(() => expect(calls('/api/v1/devices')).toBe(2));
      await waitFor(() => expect(calls('/api/v1/telemetry')).toBe(2));

      // The feed is back: one catch-up read of both, then no more polling.
      await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
      act(() => FakeWebSocket.latest().ready());
      await waitFor(() => expect(screen.getByTestId('live-state')).toHaveTextContent('live'));
      await waitFor(() => expect(calls('/api/v1/devices')).toBe(3));
      await waitFor(() => expect(calls('/api/v1/telemetry')).toBe(3));
      await act(() => vi.advanceTimersByTimeAsync(3 * POLL_MS));
      expect(calls('/api/v1/devices')).toBe(3);
      expect(calls('/api/v1/telemetry')).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads the machine list again when the feed names a machine it does not know', async () => {
    withMachines();
    renderApp('/');
    await screen.findByTestId('factory-power');
    act(() => FakeWebSocket.latest().ready());
    await screen.findByText('live');
    server.onGet('/api/v1/devices').reply(200, {
      items: [...machines, machine('kiln-8', 'Kiln 8', 'online', 0)],
      total: 8,
      limit: 500,
      offset: 0,
    });
    act(() =>
      FakeWebSocket.latest().receive({
        type: 'reading',
        device_id: 'kiln-8',
        ts: Date.now(),
        values: { power_kw: 5 },
      }),
    );
    expect(await screen.findByRole('listitem', { name: 'Kiln 8' })).toBeInTheDocument();
    await waitFor(() =>
      expect(within(tile('Kiln 8')).getByTestId('machine-power')).toHaveTextContent(kw(5)),
    );
  });

  it("charts the total in the factory's timezone", async () => {
    withMachines(machines, 'Asia/Kolkata');
    renderApp('/');
    expect(await screen.findByTestId('chart-timezone')).toHaveTextContent(
      "Times in Asia/Kolkata, the factory's timezone.",
    );
    const chart = screen.getByTestId('power-chart');
    await waitFor(() => expect(chart.querySelector('.recharts-line-curve')).not.toBeNull());
    const labels = [
      ...chart.querySelectorAll('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value'),
    ].map((tick) => tick.textContent);
    // A tick every 3 minutes of the 15, written in Kolkata time (5:30 ahead of UTC).
    expect(labels.length).toBeGreaterThanOrEqual(5);
    const inZone = (zone: string) => {
      const format = new Intl.DateTimeFormat(undefined, {
        timeZone: zone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
      const step = 180_000;
      const now = Date.now();
      const first = Math.ceil((now - 960_000) / step) * step;
      return new Set(Array.from({ length: 7 }, (_, i) => format.format(first + i * step)));
    };
    const kolkata = inZone('Asia/Kolkata');
    const utc = inZone('UTC');
    for (const label of labels) {
      expect(kolkata).toContain(label);
      expect(utc).not.toContain(label);
    }
  });

  it('falls back to the browser timezone and says so when the factory has none', async () => {
    withMachines(machines, null);
    renderApp('/');
    expect(await screen.findByTestId('chart-timezone')).toHaveTextContent(
      /your browser's timezone \(the factory's is not known\)/,
    );
  });

  it('shows how to register a machine when the factory has none', async () => {
    withMachines([]);
    renderApp('/');
    const link = await screen.findByRole('link', {
      name: 'Register a machine on the Machines page',
    });
    expect(link).toHaveAttribute('href', '/machines');
    expect(screen.getByTestId('machine-count')).toHaveTextContent('0');
    expect(screen.queryByTestId('factory-power')).not.toBeInTheDocument();
    expect(server.history.get.filter((r) => r.url === '/api/v1/telemetry')).toHaveLength(0);
  });

  it('shows a loading state until the machine list arrives', async () => {
    server.onGet('/api/v1/devices').reply(() => new Promise(() => {}));
    renderApp('/');
    expect(await screen.findByText('Loading machines…')).toBeInTheDocument();
  });

  it('shows the error of the machine list with a retry button', async () => {
    server.onGet('/api/v1/devices').replyOnce(500, {
      error: { code: 'internal', message: 'Database is locked.', request_id: 'req-9' },
    });
    server
      .onGet('/api/v1/devices')
      .reply(200, { items: machines, total: machines.length, limit: 500, offset: 0 });
    server.onGet('/api/v1/telemetry').reply(fleetAnswer());
    renderApp('/');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The machines are unavailable');
    expect(alert).toHaveTextContent('Database is locked.');
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByTestId('factory-power')).toHaveTextContent(kw(88.5));
  });

  it('shows the error of the power query next to the machines', async () => {
    server
      .onGet('/api/v1/devices')
      .reply(200, { items: machines, total: machines.length, limit: 500, offset: 0 });
    server.onGet('/api/v1/telemetry').reply(503, {
      error: { code: 'unavailable', message: 'Telemetry store unavailable.', request_id: 'r' },
    });
    renderApp('/');
    const errors = await screen.findAllByRole('alert');
    expect(errors.map((e) => e.textContent)).toEqual([
      expect.stringContaining('The power readings are unavailable'),
      expect.stringContaining('The power history is unavailable'),
    ]);
    expect(within(tile('Press 1')).getByTestId('machine-status')).toHaveTextContent('online');
  });
});

describe('DashboardPage, active alerts', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(viewerAdmin);
    server.onGet('/health').reply(200, healthyReport);
    server.onGet('/api/v1/system/info').reply(200, systemInfo);
    server.onGet('/api/v1/devices').reply(200, { items: [], total: 0, limit: 500, offset: 0 });
  });
  afterEach(() => server.restore());

  const counts = (open: number, acknowledged: number) => ({
    open,
    acknowledged,
    by_severity: { critical: open, minor: acknowledged },
    by_device: { 'press-1': open + acknowledged },
  });

  it('counts the unresolved alerts and links to them', async () => {
    server.onGet('/api/v1/alerts/counts').reply(200, counts(2, 1));
    server.onGet('/api/v1/alerts').reply(200, { items: [], total: 0 });
    server.onGet('/api/v1/rules').reply(200, { items: [], total: 0 });
    const { router } = renderApp('/');
    const card = await screen.findByRole('region', { name: 'Active alerts' });
    expect(await within(card).findByTestId('active-alerts')).toHaveTextContent('3');
    expect(within(card).getByTestId('active-alerts-detail')).toHaveTextContent(
      '2 open, 1 acknowledged · 2 critical · 1 minor',
    );
    const link = within(card).getByRole('link', { name: 'View active alerts' });
    expect(link).toHaveAttribute('href', '/alerts?status=open,acknowledged');
    await userEvent.click(link);
    expect(router.state.location.pathname).toBe('/alerts');
    await waitFor(() =>
      expect(server.history.get.find((r) => r.url === '/api/v1/alerts')?.params).toMatchObject({
        status: 'open,acknowledged',
      }),
    );
  });

  it('reads the count again when the live feed reports an alert', async () => {
    let open = 0;
    server.onGet('/api/v1/alerts/counts').reply(() => [200, counts(open, 0)]);
    renderApp('/');
    expect(await screen.findByTestId('active-alerts')).toHaveTextContent('0');
    expect(screen.getByTestId('active-alerts-detail')).toHaveTextContent(
      'Nothing needs attention.',
    );
    act(() => FakeWebSocket.latest().ready());
    open = 1;
    act(() =>
      FakeWebSocket.latest().receive({
        type: 'alert',
        event: 'opened',
        alert: {
          id: 1,
          rule_id: 1,
          rule_name: 'Power high',
          device_id: 'press-1',
          severity: 'critical',
          status: 'open',
          parameter: 'power_kw',
          value: 80,
          threshold: 75,
          message: '',
          started_at: '2026-11-27T16:00:00Z',
          last_value: 80,
          escalated_at: null,
          acknowledged_at: null,
          acknowledged_by: null,
          ack_comment: null,
          resolved_at: null,
          resolved_by: null,
          resolution: null,
          resolve_comment: null,
        },
      }),
    );
    await waitFor(() => expect(screen.getByTestId('active-alerts')).toHaveTextContent('1'));
  });

  it('shows why the count is unavailable', async () => {
    server.onGet('/api/v1/alerts/counts').reply(503, {
      error: { code: 'unavailable', message: 'Alerts are unavailable.', request_id: 'r' },
    });
    renderApp('/');
    const card = await screen.findByRole('region', { name: 'Active alerts' });
    expect(await within(card).findByRole('alert')).toHaveTextContent('Alerts are unavailable.');
  });
});
