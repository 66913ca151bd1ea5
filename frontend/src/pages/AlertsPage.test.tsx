import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../api/types';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { mockServer, renderApp, signInAs, viewerAdmin } from '../test/render';
import { compressorRule, openAlert, page } from '../test/ruleFixtures';

type Params = Record<string, unknown>;

const acknowledged: Alert = {
  ...openAlert,
  status: 'acknowledged',
  acknowledged_at: '2026-11-27T16:10:00Z',
  acknowledged_by: { id: 2, email: 'ana@plant.example', name: 'Ana' },
  ack_comment: 'On my way',
};

describe('AlertsPage', () => {
  let server: MockAdapter;
  let requests: Params[];
  let current: Alert[];
  beforeEach(() => {
    server = mockServer();
    signInAs(viewerAdmin);
    requests = [];
    current = [openAlert, { ...openAlert, id: 40, severity: 'minor', device_id: 'oven-2' }];
    server.onGet('/api/v1/devices').reply(200, {
      items: [],
      total: 0,
      limit: 500,
      offset: 0,
    });
    server.onGet('/api/v1/rules').reply(200, page([compressorRule]));
    server.onGet('/api/v1/alerts').reply((config) => {
      requests.push({ ...(config.params as Params) });
      return [200, { items: current, total: 120 }];
    });
  });
  afterEach(() => server.restore());

  const last = () => requests[requests.length - 1]!;

  it('lists alerts with severity, status, rule, machine and the triggering value', async () => {
    renderApp('/alerts');
    const row = await screen.findByTestId('alert-row-41');
    expect(within(row).getByTestId('severity')).toHaveTextContent('critical');
    expect(within(row).getByTestId('alert-status')).toHaveTextContent('open');
    expect(within(row).getByRole('link', { name: 'Compressor power high' })).toHaveAttribute(
      'href',
      '/alerts/41',
    );
    expect(within(row).getByRole('link', { name: 'compressor-1' })).toHaveAttribute(
      'href',
      '/machines/compressor-1',
    );
    expect(row).toHaveTextContent('power_kw: 81.5 (threshold 75)');
    expect(within(screen.getByTestId('alert-row-40')).getByTestId('severity')).toHaveTextContent(
      'minor',
    );
    expect(last()).toEqual({ limit: 50, offset: 0 });
  });

  it('keeps the filters in the address and sends them', async () => {
    const { router } = renderApp('/alerts?status=open,acknowledged&rule_id=7');
    await screen.findByTestId('alert-row-41');
    expect(last()).toEqual({ status: 'open,acknowledged', rule_id: '7', limit: 50, offset: 0 });
    expect(screen.getByRole('checkbox', { name: 'open' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'resolved' })).not.toBeChecked();
    await waitFor(() => expect(screen.getByLabelText('Rule')).toHaveValue('7'));

    await userEvent.click(screen.getByRole('checkbox', { name: 'critical' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'major' }));
    await waitFor(() => expect(last()).toMatchObject({ severity: 'critical,major' }));
    let search = new URLSearchParams(router.state.location.search);
    expect(search.get('severity')).toBe('critical,major');
    expect(search.get('status')).toBe('open,acknowledged');

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(last()).toMatchObject({ offset: 50, severity: 'critical,major' }));

    await userEvent.click(screen.getByRole('checkbox', { name: 'open' }));
    await waitFor(() => expect(last()).toMatchObject({ status: 'acknowledged', offset: 0 }));
    search = new URLSearchParams(router.state.location.search);
    expect(search.get('status')).toBe('acknowledged');
    expect(search.has('offset')).toBe(false);

    await userEvent.type(screen.getByLabelText('Started from'), '2026-11-27T08:00');
    await waitFor(() => expect(last()).toHaveProperty('from'));
    expect(new Date(last().from as string).getTime()).toBe(new Date('2026-11-27T08:00').getTime());
  });

  it('acknowledges an alert with a comment', async () => {
    server.onPost('/api/v1/alerts/41/acknowledge').reply(() => {
      current = [acknowledged, current[1]!];
      return [200, acknowledged];
    });
    renderApp('/alerts');
    await userEvent.click(await screen.findByRole('button', { name: 'Acknowledge alert 41' }));
    const dialog = screen.getByRole('dialog', { name: 'Acknowledge alert' });
    await userEvent.type(within(dialog).getByLabelText('Comment (optional)'), 'On my way');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Acknowledge' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({ comment: 'On my way' });
    const row = screen.getByTestId('alert-row-41');
    expect(within(row).getByTestId('alert-status')).toHaveTextContent('acknowledged');
    expect(within(row).queryByRole('button', { name: 'Acknowledge alert 41' })).toBeNull();
    expect(within(row).getByRole('button', { name: 'Resolve alert 41' })).toBeInTheDocument();
  });

  it('shows why an acknowledgement was refused and keeps the dialog open', async () => {
    server.onPost('/api/v1/alerts/41/acknowledge').reply(409, {
      error: { code: 'conflict', message: 'alert 41 is already acknowledged', request_id: 'r' },
    });
    renderApp('/alerts');
    await userEvent.click(await screen.findByRole('button', { name: 'Acknowledge alert 41' }));
    const dialog = screen.getByRole('dialog', { name: 'Acknowledge alert' });
    const before = requests.length;
    await userEvent.click(within(dialog).getByRole('button', { name: 'Acknowledge' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'alert 41 is already acknowledged',
    );
    // The list is read again, to show what somebody else did.
    await waitFor(() => expect(requests.length).toBeGreaterThan(before));
  });

  it('resolves an alert without a comment', async () => {
    server
      .onPost('/api/v1/alerts/40/resolve')
      .reply(200, { ...current[1]!, status: 'resolved', resolution: 'manual' });
    renderApp('/alerts');
    await userEvent.click(await screen.findByRole('button', { name: 'Resolve alert 40' }));
    const dialog = screen.getByRole('dialog', { name: 'Resolve alert' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Resolve' }));
    await waitFor(() => expect(server.history.post).toHaveLength(1));
    expect(server.history.post[0]!.url).toBe('/api/v1/alerts/40/resolve');
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({});
  });

  it('updates the list when the live feed reports an alert', async () => {
    renderApp('/alerts');
    await screen.findByTestId('alert-row-41');
    const ws = FakeWebSocket.latest();
    act(() => ws.ready());
    expect(ws.messages()).toEqual([]);
    expect(await screen.findByTestId('live-state')).toHaveTextContent('live');
    const before = requests.length;

    const opened: Alert = { ...openAlert, id: 42, device_id: 'press-3', rule_name: 'Press hot' };
    current = [opened, acknowledged, current[1]!];
    act(() => {
      ws.receive({ type: 'alert', event: 'acknowledged', alert: acknowledged });
      ws.receive({ type: 'alert', event: 'opened', alert: opened });
    });
    expect(await screen.findByTestId('alert-row-42')).toHaveTextContent('Press hot');
    expect(requests.length).toBeGreaterThan(before);
    expect(
      within(screen.getByTestId('alert-row-41')).getByTestId('alert-status'),
    ).toHaveTextContent('acknowledged');
  });

  it('tells an empty list from an empty filter, and shows errors with a retry', async () => {
    current = [];
    const { unmount } = renderApp('/alerts');
    expect(
      await screen.findByText('No alerts yet. They appear here when a rule fires.'),
    ).toBeInTheDocument();
    unmount();
    renderApp('/alerts?severity=info');
    expect(await screen.findByText('No alert matches these filters.')).toBeInTheDocument();
  });

  it('shows a failed load with its message', async () => {
    server.onGet('/api/v1/alerts').reply(503, {
      error: { code: 'unavailable', message: 'Alerts are unavailable.', request_id: 'r5' },
    });
    renderApp('/alerts');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The alert list is unavailable');
    expect(alert).toHaveTextContent('Request ID: r5');
  });
});
