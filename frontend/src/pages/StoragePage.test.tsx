import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryStorage } from '../api/types';
import {
  machineAdmin,
  mockDashboardApi,
  mockServer,
  renderApp,
  signInAs,
  superAdmin,
  viewerAdmin,
} from '../test/render';

const storage: TelemetryStorage = {
  engine: 'embedded',
  bytes: 5 * 1024 ** 3 + 300 * 1024 ** 2,
  series: 240,
  retention: {
    raw_days: 183,
    rollup_days: 730,
    raw_days_default: 183,
    rollup_days_default: 730,
    overridden: false,
  },
};

function withRetention(raw_days: number, rollup_days: number): TelemetryStorage {
  return {
    ...storage,
    retention: { ...storage.retention, raw_days, rollup_days, overridden: true },
  };
}

const patchBodies = (server: MockAdapter) =>
  server.history.patch.map((r) => JSON.parse(r.data as string) as unknown);

async function setDays(label: 'Raw points (days)' | 'Rollups (days)', value: string) {
  const input = screen.getByLabelText(label);
  await userEvent.clear(input);
  if (value !== '') await userEvent.type(input, value);
  return input;
}

const save = () => userEvent.click(screen.getByRole('button', { name: 'Save retention' }));

describe('StoragePage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(superAdmin);
  });
  afterEach(() => server.restore());

  it('shows the engine, the space used, the series and the retention with its ranges', async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, storage);
    renderApp('/storage');
    expect(await screen.findByTestId('storage-engine')).toHaveTextContent('Embedded');
    expect(screen.getByTestId('storage-bytes')).toHaveTextContent('5.3 GiB');
    expect(screen.getByTestId('storage-series')).toHaveTextContent('240');
    expect(screen.getByTestId('retention-raw_days')).toHaveTextContent('183 days');
    expect(screen.getByTestId('retention-rollup_days')).toHaveTextContent('730 days');
    const table = screen.getByRole('table');
    expect(within(table).getByRole('row', { name: /Raw points/ })).toHaveTextContent(
      '183 to 366 days',
    );
    expect(within(table).getByRole('row', { name: /Rollups/ })).toHaveTextContent(
      '730 to 1826 days',
    );
    expect(screen.getByTestId('retention-source')).toHaveTextContent(
      'This factory follows the server defaults.',
    );
    expect(screen.getByLabelText('Raw points (days)')).toHaveValue(183);
    expect(screen.getByLabelText('Rollups (days)')).toHaveValue(730);
    expect(screen.queryByRole('button', { name: 'Restore defaults' })).toBeNull();
    expect(screen.queryByText(/No telemetry stored yet/)).toBeNull();
  });

  it('says when the engine cannot measure the space and when nothing is stored yet', async () => {
    server
      .onGet('/api/v1/telemetry/storage')
      .reply(200, { ...storage, engine: 'influxdb', bytes: null, series: 0 });
    renderApp('/storage');
    expect(await screen.findByTestId('storage-engine')).toHaveTextContent('InfluxDB');
    expect(screen.getByTestId('storage-bytes')).toHaveTextContent('Not reported by this engine');
    expect(screen.getByText(/No telemetry stored yet/)).toBeInTheDocument();
  });

  it('shows the error of a failed load and recovers on retry', async () => {
    server.onGet('/api/v1/telemetry/storage').replyOnce(503, {
      error: { code: 'unavailable', message: 'The telemetry store is down.', request_id: 'r7' },
    });
    server.onGet('/api/v1/telemetry/storage').reply(200, storage);
    renderApp('/storage');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The telemetry store is down.');
    expect(alert).toHaveTextContent('Request ID: r7');
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByTestId('storage-bytes')).toHaveTextContent('5.3 GiB');
  });

  it('checks the ranges before sending anything', async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, storage);
    renderApp('/storage');
    await screen.findByTestId('storage-engine');

    const raw = await setDays('Raw points (days)', '100');
    const rollups = await setDays('Rollups (days)', '2000');
    await save();
    expect(screen.getByText('Raw points can be kept from 183 to 366 days.')).toBeInTheDocument();
    expect(screen.getByText('Rollups can be kept from 730 to 1826 days.')).toBeInTheDocument();
    expect(raw).toHaveAttribute('aria-invalid', 'true');
    expect(rollups).toHaveAttribute('aria-invalid', 'true');

    await setDays('Raw points (days)', '200.5');
    expect(screen.getByText('Enter a whole number of days.')).toBeInTheDocument();
    await setDays('Rollups (days)', '');
    expect(screen.getByText('Enter a number of days.')).toBeInTheDocument();
    await save();
    expect(server.history.patch).toHaveLength(0);
  });

  it('saves a longer retention without asking, and shows the values now in force', async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, storage);
    server.onPatch('/api/v1/telemetry/retention').reply(200, withRetention(250, 730));
    renderApp('/storage');
    await screen.findByTestId('storage-engine');

    await setDays('Raw points (days)', '250');
    await save();
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Retention saved: raw points are kept for 250 days, rollups for 730 days.',
    );
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(patchBodies(server)).toEqual([{ raw_days: 250 }]);
    expect(screen.getByTestId('retention-raw_days')).toHaveTextContent('250 days');
    expect(screen.getByTestId('retention-source')).toHaveTextContent(
      'This factory has its own retention.',
    );
    expect(screen.getByLabelText('Raw points (days)')).toHaveValue(250);
  });

  it('asks before shortening retention, and sends nothing when cancelled', async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, withRetention(300, 1000));
    server.onPatch('/api/v1/telemetry/retention').reply(200, withRetention(200, 800));
    renderApp('/storage');
    await screen.findByTestId('storage-engine');

    await setDays('Raw points (days)', '200');
    await setDays('Rollups (days)', '800');
    await save();
    let dialog = screen.getByRole('dialog', { name: 'Shorten retention?' });
    expect(dialog).toHaveTextContent('Raw points older than 200 days will be deleted.');
    expect(dialog).toHaveTextContent('Rollups older than 800 days will be deleted.');
    expect(dialog).toHaveTextContent('cannot be recovered');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(server.history.patch).toHaveLength(0);

    await save();
    dialog = screen.getByRole('dialog', { name: 'Shorten retention?' });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Shorten and delete older data' }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(await screen.findByRole('status')).toHaveTextContent('raw points are kept for 200 days');
    expect(patchBodies(server)).toEqual([{ raw_days: 200, rollup_days: 800 }]);
  });

  it('restores the server defaults after confirming the shorter retention', async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, withRetention(300, 730));
    server.onPatch('/api/v1/telemetry/retention').reply(200, storage);
    renderApp('/storage');
    await userEvent.click(await screen.findByRole('button', { name: 'Restore defaults' }));
    const dialog = screen.getByRole('dialog', { name: 'Shorten retention?' });
    expect(dialog).toHaveTextContent('Raw points older than 183 days will be deleted.');
    expect(dialog).not.toHaveTextContent('Rollups older');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Shorten and delete older data' }),
    );
    expect(await screen.findByRole('status')).toHaveTextContent('raw points are kept for 183 days');
    expect(patchBodies(server)).toEqual([{ raw_days: null, rollup_days: null }]);
    expect(screen.queryByRole('button', { name: 'Restore defaults' })).toBeNull();
  });

  it('sends nothing when the values are those in force', async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, storage);
    renderApp('/storage');
    await screen.findByTestId('storage-engine');
    await save();
    expect(screen.getByRole('status')).toHaveTextContent('already in force');
    expect(server.history.patch).toHaveLength(0);
  });

  it("shows the server's 400 under its field and other refusals above the buttons", async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, storage);
    server.onPatch('/api/v1/telemetry/retention').replyOnce(400, {
      error: {
        code: 'invalid_argument',
        message: 'rollup_days: must be from 730 to 1826 days, or null for the default',
        field: 'rollup_days',
        request_id: 'r1',
      },
    });
    server.onPatch('/api/v1/telemetry/retention').replyOnce(403, {
      error: { code: 'forbidden', message: 'Only a super admin may do this.', request_id: 'r2' },
    });
    renderApp('/storage');
    await screen.findByTestId('storage-engine');

    await setDays('Rollups (days)', '900');
    await save();
    const message = await screen.findByText(
      'rollup_days: must be from 730 to 1826 days, or null for the default',
    );
    const rollups = screen.getByLabelText('Rollups (days)');
    expect(rollups).toHaveAttribute('aria-invalid', 'true');
    expect(rollups.getAttribute('aria-describedby')).toContain(message.id);
    expect(screen.queryByRole('alert')).toBeNull();

    await save();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Only a super admin may do this.');
    expect(alert).toHaveTextContent('Request ID: r2');
    expect(screen.queryByRole('status')).toBeNull();
    // The page still shows what is in force: nothing was changed.
    expect(screen.getByTestId('retention-rollup_days')).toHaveTextContent('730 days');
    expect(patchBodies(server)).toEqual([{ rollup_days: 900 }, { rollup_days: 900 }]);
  });
});

describe('StoragePage for an admin', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    mockDashboardApi(server);
  });
  afterEach(() => server.restore());

  it.each([
    ['without permissions', viewerAdmin],
    ['with the machines permission', machineAdmin],
  ])('offers no Storage entry to an admin %s, and refuses the address', async (_name, user) => {
    signInAs(user);
    const { unmount } = renderApp('/');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Machines' })).toBeInTheDocument();
    expect(within(nav).queryByRole('link', { name: 'Storage' })).toBeNull();
    expect(within(nav).queryByText('Storage')).toBeNull();
    unmount();

    renderApp('/storage');
    expect(
      screen.getByRole('heading', { name: "You don't have access to this page" }),
    ).toBeInTheDocument();
    await waitFor(() => expect(server.history.get.length).toBeGreaterThan(0));
    expect(server.history.get.map((r) => r.url)).not.toContain('/api/v1/telemetry/storage');
  });
});
