import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { AxiosRequestConfig } from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  Device,
  DeviceParameter,
  IngestError,
  LatestValue,
  TelemetryAnswer,
} from '../api/types';
import { machineAdmin, mockServer, renderApp, signInAs, viewerAdmin } from '../test/render';

const device: Device = {
  device_id: 'compressor-1',
  name: 'Compressor 1',
  type: 'compressor',
  location: 'Hall B',
  line: 'Line 2',
  rated_power_kw: 75,
  metadata: null,
  api_key_prefix: 'fo_AbCdE',
  is_enabled: true,
  status: 'online',
  last_seen_at: '2026-11-27T10:00:00Z',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};

const power: DeviceParameter = {
  parameter_key: 'power_kw',
  display_name: 'Power',
  unit: 'kW',
  data_type: 'float',
  is_kpi_selected: true,
  first_seen_at: '2026-11-01T00:00:00Z',
  last_seen_at: '2026-11-27T10:00:00Z',
};
const voltage: DeviceParameter = {
  ...power,
  parameter_key: 'voltage_l1',
  display_name: null,
  unit: 'V',
  is_kpi_selected: false,
};

const base = '/api/v1/devices/compressor-1';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t0 = Date.UTC(2026, 10, 27, 9, 0, 0);

function answer(overrides: Partial<TelemetryAnswer> = {}): TelemetryAnswer {
  return {
    device_id: 'compressor-1',
    from: '2026-11-26T10:00:00.000Z',
    to: '2026-11-27T10:00:00.000Z',
    interval: '1m',
    agg: 'avg',
    timezone: 'Asia/Kolkata',
    series: [
      {
        param: 'power_kw',
        points: [
          [t0, 12.5],
          [t0 + 60_000, 12.7],
          [t0 + 120_000, 13.1],
        ],
      },
    ],
    ...overrides,
  };
}

interface MachineApi {
  parameters?: DeviceParameter[];
  latest?: LatestValue[];
  telemetry?: TelemetryAnswer;
  errors?: IngestError[];
}

/** Answers every request of the machine page. */
function mockMachine(server: MockAdapter, api: MachineApi = {}) {
  server.onGet(base).reply(200, device);
  server.onGet(`${base}/parameters`).reply(200, { items: api.parameters ?? [power, voltage] });
  server
    .onGet(`${base}/telemetry/latest`)
    .reply(200, { device_id: 'compressor-1', values: api.latest ?? [] });
  server.onGet(`${base}/ingest-errors`).reply(200, { items: api.errors ?? [] });
  server.onGet(`${base}/telemetry`).reply(200, api.telemetry ?? answer());
}

const telemetryRequests = (server: MockAdapter) =>
  server.history.get.filter((r) => r.url === `${base}/telemetry`);

function paramsOf(request: AxiosRequestConfig) {
  const p = request.params as Record<string, string | number>;
  return { ...p, span: Date.parse(String(p.to)) - Date.parse(String(p.from)) };
}

const header = (request: AxiosRequestConfig, name: string): unknown =>
  (request.headers as { get?: (n: string) => unknown } | undefined)?.get?.(name) ??
  (request.headers as Record<string, unknown> | undefined)?.[name];

describe('MachineDetailPage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    // The page charts the last 24 hours before now: now is when the fixtures' data ends, so
    // the tests read the same whatever day they run. Only the clock is fixed; timers run.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T10:00:30Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
    server.restore();
  });

  it('shows the key prefix only and the empty states of a machine that never sent data', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, { parameters: [] });
    renderApp('/machines/compressor-1');
    expect(await screen.findByTestId('api-key-prefix')).toHaveTextContent('fo_AbCdE…');
    expect(
      await screen.findByText(
        'No parameters discovered yet — they appear when the machine first sends telemetry.',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Nothing to chart yet: the machine has sent no telemetry.'),
    ).toBeInTheDocument();
    expect(await screen.findByText('No rejected messages')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Rotate key' })).toBeNull();
    // Nothing to chart, so no telemetry query was sent.
    expect(telemetryRequests(server)).toHaveLength(0);
  });

  it('says so when the machine does not exist', async () => {
    signInAs(viewerAdmin);
    server.onGet('/api/v1/devices/ghost').reply(404, {
      error: { code: 'not_found', message: 'No such device.', request_id: 'r' },
    });
    renderApp('/machines/ghost');
    expect(
      await screen.findByText('There is no machine "ghost" in this factory.'),
    ).toBeInTheDocument();
  });

  it('charts the KPI parameters from the answer, with interval, unit and timezone', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, {
      latest: [{ param: 'power_kw', time: '2026-11-27T10:00:00Z', value: 12.5 }],
    });
    renderApp('/machines/compressor-1');

    const chart = await screen.findByTestId('chart-power_kw');
    expect(within(chart).getByText('Power (power_kw)')).toBeInTheDocument();
    expect(within(chart).getByTestId('chart-power_kw-count')).toHaveTextContent('3 points · kW');
    await waitFor(() => {
      const line = chart.querySelector('.recharts-line-curve');
      expect(line?.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);
    });
    // The unit labels the value axis.
    expect(within(chart).getByText('kW', { selector: 'text, tspan' })).toBeInTheDocument();
    // Only KPI-selected parameters are charted.
    expect(screen.queryByTestId('chart-voltage_l1')).toBeNull();

    expect(screen.getByTestId('chart-interval')).toHaveTextContent('1m avg');
    expect(screen.getByTestId('chart-timezone')).toHaveTextContent(
      "Times in Asia/Kolkata, the factory's timezone.",
    );
    expect(screen.getByLabelText('Aggregation')).toBeEnabled();

    const sent = paramsOf(telemetryRequests(server)[0]!);
    expect(sent).toMatchObject({
      params: 'power_kw',
      agg: 'avg',
      interval: 'auto',
      max_points: 1000,
      span: DAY,
    });

    // The parameter list shows the last value with its unit.
    expect(await screen.findByTestId('latest-value-power_kw')).toHaveTextContent(/^12\.5 kW$/);
    expect(screen.getByTestId('latest-voltage_l1')).toHaveTextContent('—');
  });

  it('falls back to the browser timezone and says so when the factory has none', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, { telemetry: answer({ timezone: null }) });
    renderApp('/machines/compressor-1');
    expect(await screen.findByTestId('chart-timezone')).toHaveTextContent(
      /your browser's timezone \(the factory's is not known\)/,
    );
  });

  it('a range preset and the aggregation change the query and the address', async () => {
    signInAs(viewerAdmin);
    mockMachine(server);
    const { router } = renderApp('/machines/compressor-1');
    await screen.findByTestId('chart-power_kw');
    const range = screen.getByRole('group', { name: 'Range' });
    expect(within(range).getByRole('button', { name: '24 h' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );

    await userEvent.click(within(range).getByRole('button', { name: '7 d' }));
    await waitFor(() => expect(router.state.location.search).toContain('range=7d'));
    await waitFor(() => expect(paramsOf(telemetryRequests(server).at(-1)!).span).toBe(7 * DAY));
    expect(within(range).getByRole('button', { name: '7 d' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );

    await userEvent.click(within(range).getByRole('button', { name: '1 h' }));
    await waitFor(() => expect(paramsOf(telemetryRequests(server).at(-1)!).span).toBe(HOUR));

    await userEvent.selectOptions(screen.getByLabelText('Aggregation'), 'max');
    await waitFor(() => expect(router.state.location.search).toContain('agg=max'));
    await waitFor(() =>
      expect(paramsOf(telemetryRequests(server).at(-1)!)).toMatchObject({ agg: 'max', span: HOUR }),
    );
  });

  it('disables the aggregation when the answer holds raw points', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, { telemetry: answer({ interval: 'raw', agg: null }) });
    renderApp('/machines/compressor-1');
    await screen.findByTestId('chart-power_kw');
    expect(screen.getByTestId('chart-interval')).toHaveTextContent('raw');
    expect(screen.getByLabelText('Aggregation')).toBeDisabled();
    expect(screen.getByText(/raw points: no aggregation applies/)).toBeInTheDocument();
  });

  it('refuses a custom range that ends before it starts, and applies a valid one', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, { telemetry: answer({ timezone: 'UTC' }) });
    const { router } = renderApp('/machines/compressor-1');
    await screen.findByTestId('chart-power_kw');
    const before = telemetryRequests(server).length;

    await userEvent.click(screen.getByRole('button', { name: 'Custom…' }));
    const form = screen.getByRole('form', { name: 'Custom range' });
    expect(form).toHaveTextContent('Times in UTC.');
    fireEvent.change(within(form).getByLabelText('From'), {
      target: { value: '2026-11-20T12:00' },
    });
    fireEvent.change(within(form).getByLabelText('To'), { target: { value: '2026-11-20T08:00' } });
    await userEvent.click(within(form).getByRole('button', { name: 'Apply' }));
    expect(within(form).getByRole('alert')).toHaveTextContent('The start must be before the end.');
    expect(within(form).getByLabelText('From')).toHaveAttribute('aria-invalid', 'true');
    expect(router.state.location.search).not.toContain('range=custom');
    expect(telemetryRequests(server)).toHaveLength(before);

    fireEvent.change(within(form).getByLabelText('To'), { target: { value: '2026-11-21T08:00' } });
    await userEvent.click(within(form).getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(router.state.location.search).toContain('range=custom'));
    const search = new URLSearchParams(router.state.location.search);
    expect(search.get('from')).toBe('2026-11-20T12:00:00.000Z');
    expect(search.get('to')).toBe('2026-11-21T08:00:00.000Z');
    await waitFor(() =>
      expect(telemetryRequests(server).at(-1)!.params).toMatchObject({
        from: '2026-11-20T12:00:00.000Z',
        to: '2026-11-21T08:00:00.000Z',
      }),
    );
    expect(screen.queryByRole('form', { name: 'Custom range' })).toBeNull();
  });

  it('opens a shared link with its range, aggregation and parameters', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, {
      telemetry: answer({
        interval: '1h',
        agg: 'max',
        series: [{ param: 'voltage_l1', points: [[t0, 230.2]] }],
      }),
    });
    renderApp(
      '/machines/compressor-1?range=custom&from=2026-11-01T00:00:00.000Z&to=2026-11-08T00:00:00.000Z&agg=max&params=voltage_l1',
    );
    const chart = await screen.findByTestId('chart-voltage_l1');
    expect(within(chart).getByTestId('chart-voltage_l1-count')).toHaveTextContent('1 point · V');
    expect(telemetryRequests(server)[0]!.params).toMatchObject({
      params: 'voltage_l1',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-08T00:00:00.000Z',
      agg: 'max',
    });
    expect(screen.getByLabelText('Aggregation')).toHaveValue('max');
    expect(screen.getByRole('button', { name: 'Custom…' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('chart-interval')).toHaveTextContent('1h max');
  });

  it('picking charted parameters puts them in the address and the query', async () => {
    signInAs(viewerAdmin);
    mockMachine(server);
    const { router } = renderApp('/machines/compressor-1');
    await screen.findByTestId('chart-power_kw');
    const picker = screen.getByRole('group', { name: /Charted parameters/ });
    await userEvent.click(within(picker).getByRole('checkbox', { name: 'voltage_l1' }));
    await waitFor(() =>
      expect(new URLSearchParams(router.state.location.search).get('params')).toBe(
        'power_kw,voltage_l1',
      ),
    );
    await waitFor(() =>
      expect(telemetryRequests(server).at(-1)!.params).toMatchObject({
        params: 'power_kw,voltage_l1',
      }),
    );
    await userEvent.click(
      within(picker).getByRole('button', { name: 'Back to the KPI selection' }),
    );
    await waitFor(() => expect(router.state.location.search).not.toContain('params='));
  });

  it('shows a failed query as an error with its message', async () => {
    signInAs(viewerAdmin);
    mockMachine(server);
    server.onGet(`${base}/telemetry`).reply(400, {
      error: {
        code: 'invalid_argument',
        message: 'interval: the range needs more than max_points buckets',
        request_id: 'req-7',
      },
    });
    renderApp('/machines/compressor-1');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The telemetry is unavailable');
    expect(alert).toHaveTextContent('interval: the range needs more than max_points buckets');
  });

  it('says so when a charted parameter has no data in the range', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, { telemetry: answer({ series: [{ param: 'power_kw', points: [] }] }) });
    renderApp('/machines/compressor-1');
    const chart = await screen.findByTestId('chart-power_kw');
    expect(within(chart).getByText('No data in this range.')).toBeInTheDocument();
  });

  it('downloads the same query as CSV with Accept: text/csv and the bearer token', async () => {
    signInAs(viewerAdmin);
    mockMachine(server);
    const csv = 'time,power_kw\n2026-11-27T09:00:00.000Z,12.5\n';
    server.onGet(`${base}/telemetry`).reply((config) =>
      header(config, 'Accept') === 'text/csv'
        ? [
            200,
            csv,
            {
              'content-type': 'text/csv',
              'content-disposition': 'attachment; filename="compressor-1-telemetry.csv"',
            },
          ]
        : [200, answer()],
    );
    const created: Blob[] = [];
    const createObjectURL = vi.fn((blob: Blob) => {
      created.push(blob);
      return 'blob:telemetry';
    });
    const revokeObjectURL = vi.fn();
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL, revokeObjectURL }));
    const clicked: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push({ href: this.href, download: this.download });
    });

    renderApp('/machines/compressor-1?range=7d&agg=max');
    await screen.findByTestId('chart-power_kw');
    await userEvent.click(screen.getByRole('button', { name: 'Download CSV' }));

    await waitFor(() =>
      expect(clicked).toEqual([{ href: 'blob:telemetry', download: 'compressor-1-telemetry.csv' }]),
    );
    const requests = telemetryRequests(server);
    const csvRequest = requests.find((r) => header(r, 'Accept') === 'text/csv')!;
    expect(header(csvRequest, 'Authorization')).toBe('Bearer access-1');
    expect(paramsOf(csvRequest)).toEqual(paramsOf(requests[0]!));
    expect(paramsOf(csvRequest)).toMatchObject({ agg: 'max', span: 7 * DAY });
    expect(created).toHaveLength(1);
    expect(await created[0]!.text()).toBe(csv);
    await waitFor(() => expect(revokeObjectURL).toHaveBeenCalledWith('blob:telemetry'));
  });

  it('lists rejected messages with reason, message and the payload behind a toggle', async () => {
    signInAs(viewerAdmin);
    mockMachine(server, {
      errors: [
        {
          received_at: '2026-11-27T10:00:00.123Z',
          reason: 'invalid_json',
          message: 'The message is not JSON.',
          payload: '{"ts": 17, "power_kw": ',
        },
        {
          received_at: '2026-11-27T09:59:00.000Z',
          reason: 'bad_timestamp',
          message: 'ts: not epoch milliseconds or RFC 3339.',
          payload: '{"ts": "yesterday", "power_kw": 3}',
        },
      ],
    });
    renderApp('/machines/compressor-1');
    const list = await screen.findByRole('list', { name: 'Rejected messages' });
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('invalid_json');
    expect(items[0]).toHaveTextContent('The message is not JSON.');
    expect(items[1]).toHaveTextContent('bad_timestamp');
    const payload = items[1]!.querySelector('pre')!;
    expect(payload).toHaveTextContent('{"ts": "yesterday", "power_kw": 3}');
    expect(payload).not.toBeVisible();
    await userEvent.click(within(items[1]!).getByText('Payload'));
    expect(payload).toBeVisible();
    expect(screen.queryByText('No rejected messages')).toBeNull();
  });

  it('lets a machine manager rename a parameter and pick it as a KPI', async () => {
    signInAs(machineAdmin);
    mockMachine(server, { parameters: [voltage] });
    server
      .onPatch(`${base}/parameters/voltage_l1`)
      .reply(200, { ...voltage, is_kpi_selected: true });
    renderApp('/machines/compressor-1');
    await userEvent.type(await screen.findByLabelText('Display name of voltage_l1'), 'L1');
    await userEvent.clear(screen.getByLabelText('Unit of voltage_l1'));
    await userEvent.type(screen.getByLabelText('Unit of voltage_l1'), 'kV');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await userEvent.click(screen.getByLabelText('voltage_l1 is a KPI'));
    await waitFor(() => expect(server.history.patch).toHaveLength(2));
    expect(server.history.patch.map((r) => JSON.parse(r.data as string) as unknown)).toEqual([
      { display_name: 'L1', unit: 'kV' },
      { is_kpi_selected: true },
    ]);
  });

  it('ticks KPI at once and puts it back when the server refuses', async () => {
    signInAs(machineAdmin);
    mockMachine(server, { parameters: [voltage] });
    let answerPatch: (status: number) => void = () => {};
    server.onPatch(`${base}/parameters/voltage_l1`).reply(
      () =>
        new Promise((resolve) => {
          answerPatch = (status) =>
            resolve([
              status,
              { error: { code: 'unavailable', message: 'Metadata store down.', request_id: 'r' } },
            ]);
        }),
    );
    renderApp('/machines/compressor-1');
    const box = await screen.findByLabelText('voltage_l1 is a KPI');
    expect(box).not.toBeChecked();
    // From now on the list does not come back, so only the rollback can undo the tick.
    server.onGet(`${base}/parameters`).reply(() => new Promise(() => {}));
    await userEvent.click(box);
    // Optimistic: checked before the server has answered.
    await waitFor(() => expect(server.history.patch).toHaveLength(1));
    expect(screen.getByLabelText('voltage_l1 is a KPI')).toBeChecked();

    answerPatch(503);
    await waitFor(() => expect(screen.getByLabelText('voltage_l1 is a KPI')).not.toBeChecked());
    expect(within(screen.getByTestId('parameter-voltage_l1')).getByRole('alert')).toHaveTextContent(
      'Not saved: Metadata store down.',
    );
  });

  it('shows the KPI flag read-only to an admin without the machines permission', async () => {
    signInAs(viewerAdmin);
    mockMachine(server);
    renderApp('/machines/compressor-1');
    expect(await screen.findByLabelText('power_kw is a KPI')).toBeDisabled();
    expect(screen.queryByLabelText('Display name of power_kw')).toBeNull();
  });
});
