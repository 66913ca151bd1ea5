import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertDetail } from '../api/types';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { mockServer, renderApp, signInAs, viewerAdmin } from '../test/render';
import { alertDetail, openAlert } from '../test/ruleFixtures';

const hour = 3_600_000;
const started = Date.parse(openAlert.started_at);

function telemetryAnswer() {
  return {
    device_id: 'compressor-1',
    from: 'a',
    to: 'b',
    interval: '1m',
    agg: 'avg',
    timezone: 'UTC',
    series: [
      {
        param: 'power_kw',
        points: Array.from({ length: 30 }, (_, i) => [started - hour + i * 240_000, 60 + i]),
      },
    ],
  };
}

describe('AlertDetailPage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(viewerAdmin);
    server.onGet('/api/v1/devices/compressor-1/telemetry').reply(200, telemetryAnswer());
  });
  afterEach(() => server.restore());

  it('shows every field of the alert and its notification log', async () => {
    server.onGet('/api/v1/alerts/41').reply(200, alertDetail);
    renderApp('/alerts/41');
    expect(
      await screen.findByRole('heading', { name: 'Compressor power high on compressor-1' }),
    ).toBeInTheDocument();
    expect(screen.getByTestId('alert-value')).toHaveTextContent('81.5');
    expect(screen.getByTestId('alert-threshold')).toHaveTextContent('75');
    expect(screen.getByTestId('severity')).toHaveTextContent('critical');
    expect(screen.getByTestId('alert-status')).toHaveTextContent('open');
    expect(screen.getByRole('link', { name: 'Compressor power high' })).toHaveAttribute(
      'href',
      '/rules/7',
    );
    const log = screen.getByRole('table', { name: 'Notification log' });
    const rows = within(log).getAllByTestId('notification');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('maintenance@example.com');
    expect(rows[0]).toHaveTextContent('sent');
    expect(rows[1]).toHaveTextContent('whatsapp');
    expect(rows[1]).toHaveTextContent('failed');
    expect(rows[1]).toHaveTextContent('Twilio 21211: invalid To number');
  });

  it('charts the parameter from an hour before the alert, with the threshold drawn', async () => {
    server.onGet('/api/v1/alerts/41').reply(200, alertDetail);
    renderApp('/alerts/41');
    const chart = await screen.findByTestId('alert-chart');
    const request = server.history.get.find(
      (r) => r.url === '/api/v1/devices/compressor-1/telemetry',
    )!;
    const params = request.params as { params: string; from: string; to: string };
    expect(params.params).toBe('power_kw');
    expect(Date.parse(params.from)).toBe(started - hour);
    // Still open: up to now.
    expect(Math.abs(Date.parse(params.to) - Date.now())).toBeLessThan(60_000);
    await waitFor(() => expect(chart.querySelector('.recharts-line-curve')).not.toBeNull());
    expect(chart.querySelectorAll('.recharts-reference-line')).toHaveLength(2);
    expect(chart).toHaveTextContent('threshold 75');
  });

  it('ends the chart an hour after a resolved alert', async () => {
    const resolved: AlertDetail = {
      ...alertDetail,
      status: 'resolved',
      resolved_at: '2026-11-27T16:30:00Z',
      resolution: 'auto',
    };
    server.onGet('/api/v1/alerts/41').reply(200, resolved);
    renderApp('/alerts/41');
    await screen.findByTestId('alert-chart');
    expect(screen.getByText(/cleared by itself/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Resolve' })).toBeNull();
    const request = server.history.get.find(
      (r) => r.url === '/api/v1/devices/compressor-1/telemetry',
    )!;
    expect(Date.parse((request.params as { to: string }).to)).toBe(
      Date.parse('2026-11-27T17:30:00Z'),
    );
  });

  it('acknowledges with a comment and shows who did it', async () => {
    const acked: AlertDetail = {
      ...alertDetail,
      status: 'acknowledged',
      acknowledged_at: '2026-11-27T16:10:00Z',
      acknowledged_by: { id: 2, email: 'ana@plant.example', name: 'Ana' },
      ack_comment: 'Checking the intake filter',
    };
    server.onGet('/api/v1/alerts/41').replyOnce(200, alertDetail);
    server.onGet('/api/v1/alerts/41').reply(200, acked);
    server
      .onPost('/api/v1/alerts/41/acknowledge')
      .reply(200, { ...acked, notifications: undefined });
    renderApp('/alerts/41');
    await userEvent.click(await screen.findByRole('button', { name: 'Acknowledge' }));
    const dialog = screen.getByRole('dialog', { name: 'Acknowledge alert' });
    await userEvent.type(
      within(dialog).getByLabelText('Comment (optional)'),
      'Checking the intake filter',
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Acknowledge' }));
    expect(await screen.findByTestId('ack-comment')).toHaveTextContent(
      'Checking the intake filter',
    );
    expect(screen.getByTestId('alert-acknowledged')).toHaveTextContent('by Ana');
    expect(screen.getByTestId('alert-status')).toHaveTextContent('acknowledged');
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({
      comment: 'Checking the intake filter',
    });
    // The log is still there: the answer of acknowledge carries none, the detail keeps it.
    expect(screen.getAllByTestId('notification')).toHaveLength(2);
  });

  it('follows the live feed when the alert is resolved elsewhere', async () => {
    server.onGet('/api/v1/alerts/41').replyOnce(200, alertDetail);
    server.onGet('/api/v1/alerts/41').reply(() => new Promise(() => {}));
    renderApp('/alerts/41');
    await screen.findByTestId('alert-value');
    act(() => FakeWebSocket.latest().ready());
    act(() =>
      FakeWebSocket.latest().receive({
        type: 'alert',
        event: 'resolved',
        alert: {
          ...openAlert,
          status: 'resolved',
          resolved_at: '2026-11-27T16:30:00Z',
          resolution: 'auto',
        },
      }),
    );
    await waitFor(() => expect(screen.getByTestId('alert-status')).toHaveTextContent('resolved'));
    expect(screen.getAllByTestId('notification')).toHaveLength(2);
  });

  it('says when an alert watches no single parameter', async () => {
    server
      .onGet('/api/v1/alerts/41')
      .reply(200, { ...alertDetail, parameter: null, notifications: [] });
    renderApp('/alerts/41');
    expect(await screen.findByText(/watches no single parameter/)).toBeInTheDocument();
    expect(screen.getByText(/Nobody has been notified/)).toBeInTheDocument();
  });

  it('says when the alert does not exist', async () => {
    server.onGet('/api/v1/alerts/99').reply(404, {
      error: { code: 'not_found', message: 'alert 99 not found', request_id: 'r' },
    });
    renderApp('/alerts/99');
    expect(await screen.findByText('There is no alert 99 in this factory.')).toBeInTheDocument();
  });
});
