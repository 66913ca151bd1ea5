import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Device } from '../api/types';
import {
  machineAdmin,
  mockServer,
  renderApp,
  signInAs,
  superAdmin,
  viewerAdmin,
} from '../test/render';

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
  status: 'unknown',
  last_seen_at: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};
const key = `fo_${'k'.repeat(43)}`;
const page = (items: Device[], total = items.length) => ({ items, total, limit: 20, offset: 0 });

describe('MachinesPage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  it('registers a machine and shows its key once; the panel cannot be reopened', async () => {
    signInAs(superAdmin);
    server.onGet('/api/v1/devices').replyOnce(200, page([]));
    server.onGet('/api/v1/devices').reply(200, page([device]));
    server.onPost('/api/v1/devices').reply(201, { device, api_key: key });
    renderApp('/machines');
    expect(
      await screen.findByText('No machines yet. Register the first one to get its API key.'),
    ).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Register machine' }));
    const dialog = screen.getByRole('dialog', { name: 'Register machine' });
    await userEvent.type(within(dialog).getByLabelText('Device ID'), 'compressor-1');
    await userEvent.type(within(dialog).getByLabelText('Name'), 'Compressor 1');
    await userEvent.type(within(dialog).getByLabelText('Rated power (kW)'), '75');
    await userEvent.type(within(dialog).getByLabelText('Metadata (JSON)'), '{{"vendor": "Atlas"}');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Register' }));

    const panel = await screen.findByTestId('api-key-panel');
    expect(within(panel).getByTestId('api-key')).toHaveTextContent(key);
    expect(panel).toHaveTextContent('cannot be shown again');
    expect(within(panel).getByRole('button', { name: 'Copy key' })).toBeInTheDocument();
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({
      device_id: 'compressor-1',
      name: 'Compressor 1',
      type: '',
      location: '',
      line: '',
      rated_power_kw: 75,
      metadata: { vendor: 'Atlas' },
    });

    await userEvent.click(within(panel).getByRole('button', { name: 'I have stored the key' }));
    expect(await screen.findByTestId('machine-row-compressor-1')).toBeInTheDocument();
    expect(screen.queryByText(key)).toBeNull();

    // Opening the dialog again starts a fresh, empty form: the key is gone for good.
    await userEvent.click(screen.getByRole('button', { name: 'Register machine' }));
    expect(screen.queryByTestId('api-key-panel')).toBeNull();
    expect(screen.queryByText(key)).toBeNull();
    expect(within(screen.getByRole('dialog')).getByLabelText('Device ID')).toHaveValue('');
  });

  it('shows machines whose optional fields are null', async () => {
    signInAs(viewerAdmin);
    server
      .onGet('/api/v1/devices')
      .reply(200, page([{ ...device, type: null, location: null, line: null }]));
    renderApp('/machines');
    const row = await screen.findByTestId('machine-row-compressor-1');
    expect(within(row).getAllByText('—')).toHaveLength(3);
  });

  it('validates every field before sending', async () => {
    signInAs(superAdmin);
    server.onGet('/api/v1/devices').reply(200, page([]));
    renderApp('/machines');
    await userEvent.click(await screen.findByRole('button', { name: 'Register machine' }));
    const dialog = screen.getByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Device ID'), 'Compressor 1');
    await userEvent.type(within(dialog).getByLabelText('Rated power (kW)'), '-3');
    await userEvent.type(within(dialog).getByLabelText('Metadata (JSON)'), '[[1]');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Register' }));

    expect(within(dialog).getByLabelText('Device ID')).toHaveAccessibleDescription(
      /Use up to 64 lowercase letters/,
    );
    expect(within(dialog).getByLabelText('Name')).toHaveAccessibleDescription('Enter a name.');
    expect(within(dialog).getByLabelText('Rated power (kW)')).toHaveAccessibleDescription(
      /number of kilowatts \(0 or more\)/,
    );
    expect(within(dialog).getByLabelText('Metadata (JSON)')).toHaveAccessibleDescription(
      /Enter a JSON object/,
    );
    expect(server.history.post).toHaveLength(0);
  });

  it("puts the server's 400 under the field it names and a 409 under the device id", async () => {
    signInAs(superAdmin);
    server.onGet('/api/v1/devices').reply(200, page([]));
    server.onPost('/api/v1/devices').replyOnce(400, {
      error: {
        code: 'invalid_argument',
        message: 'line: must be at most 64 characters',
        request_id: 'r',
        field: 'line',
      },
    });
    server.onPost('/api/v1/devices').replyOnce(409, {
      error: { code: 'conflict', message: 'Device id already exists.', request_id: 'r' },
    });
    renderApp('/machines');
    await userEvent.click(await screen.findByRole('button', { name: 'Register machine' }));
    const dialog = screen.getByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Device ID'), 'press-1');
    await userEvent.type(within(dialog).getByLabelText('Name'), 'Press');
    await userEvent.type(within(dialog).getByLabelText('Line'), 'L');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText('Line')).toHaveAccessibleDescription(
        'line: must be at most 64 characters',
      ),
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText('Device ID')).toHaveAccessibleDescription(
        /Device id already exists\./,
      ),
    );
  });

  it('keeps search (debounced) and filters in the address and sends them', async () => {
    signInAs(viewerAdmin);
    server.onGet('/api/v1/devices').reply(200, page([device], 45));
    const { router } = renderApp('/machines?type=compressor');
    expect(await screen.findByTestId('pager-range')).toHaveTextContent('1–1 of 45');
    await userEvent.type(screen.getByRole('searchbox'), 'comp');
    await waitFor(() => expect(router.state.location.search).toContain('search=comp'));
    await waitFor(() =>
      expect(
        server.history.get.filter((r) => r.url === '/api/v1/devices').at(-1)!.params,
      ).toMatchObject({
        search: 'comp',
        type: 'compressor',
        limit: 20,
        offset: 0,
      }),
    );
    // Typing four letters led to one search request, not four.
    const searches = server.history.get.filter(
      (r) =>
        r.url === '/api/v1/devices' && (r.params as Record<string, unknown>).search !== undefined,
    );
    expect(searches).toHaveLength(1);

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(router.state.location.search).toContain('offset=20'));
  });

  it('marks the machines with unresolved alerts and links to them', async () => {
    signInAs(viewerAdmin);
    const oven = { ...device, device_id: 'oven-2', name: 'Oven 2' };
    const saw = { ...device, device_id: 'saw-3', name: 'Saw 3' };
    server.onGet('/api/v1/devices').reply(200, page([device, oven, saw]));
    server.onGet('/api/v1/alerts/counts').reply(200, {
      open: 3,
      acknowledged: 1,
      by_severity: { critical: 4 },
      by_device: { 'compressor-1': 3, 'oven-2': 1 },
    });
    renderApp('/machines');
    const row = await screen.findByTestId('machine-row-compressor-1');
    expect(await within(row).findByTestId('machine-alerts')).toHaveTextContent('3 alerts');
    expect(
      within(row).getByRole('link', { name: '3 unresolved alerts on compressor-1' }),
    ).toHaveAttribute('href', '/alerts?status=open,acknowledged&device_id=compressor-1');
    expect(
      within(screen.getByTestId('machine-row-oven-2')).getByTestId('machine-alerts'),
    ).toHaveTextContent('1 alert');
    expect(
      within(screen.getByTestId('machine-row-saw-3')).queryByTestId('machine-alerts'),
    ).toBeNull();
  });

  it('still lists the machines when the alert counts are unavailable', async () => {
    signInAs(viewerAdmin);
    server.onGet('/api/v1/devices').reply(200, page([device]));
    server.onGet('/api/v1/alerts/counts').reply(503, {
      error: { code: 'unavailable', message: 'down', request_id: 'r' },
    });
    renderApp('/machines');
    const row = await screen.findByTestId('machine-row-compressor-1');
    await waitFor(() =>
      expect(server.history.get.some((r) => r.url === '/api/v1/alerts/counts')).toBe(true),
    );
    expect(within(row).queryByTestId('machine-alerts')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('hides write actions from an admin without the machines permission', async () => {
    signInAs(viewerAdmin);
    server.onGet('/api/v1/devices').reply(200, page([device]));
    renderApp('/machines');
    expect(await screen.findByTestId('machine-row-compressor-1')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Register machine' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Edit|Rotate|Delete/ })).toBeNull();
  });

  it('rotates a key after confirmation and shows the new key once', async () => {
    signInAs(machineAdmin);
    server.onGet('/api/v1/devices').reply(200, page([device]));
    server.onPost('/api/v1/devices/compressor-1/rotate-key').reply(200, {
      device: { ...device, api_key_prefix: 'fo_ZzZzZ' },
      api_key: key,
    });
    renderApp('/machines');
    await userEvent.click(
      await screen.findByRole('button', { name: 'Rotate key of compressor-1' }),
    );
    const dialog = screen.getByRole('dialog', { name: 'Rotate API key' });
    expect(server.history.post).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Rotate key' }));
    expect(await screen.findByTestId('api-key')).toHaveTextContent(key);
  });

  it('deletes only after the device id is typed', async () => {
    signInAs(superAdmin);
    server.onGet('/api/v1/devices').reply(200, page([device]));
    server.onDelete('/api/v1/devices/compressor-1').reply(204);
    renderApp('/machines');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete compressor-1' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete machine' });
    const confirm = within(dialog).getByRole('button', { name: 'Delete machine' });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Device ID'), 'compressor-');
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Device ID'), '1');
    await userEvent.click(confirm);
    await waitFor(() => expect(server.history.delete).toHaveLength(1));
  });
});
