import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HEALTH_REFRESH_MS } from '../hooks/useHealth';
import {
  healthyReport,
  mockServer,
  renderApp,
  signInAs,
  systemInfo,
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
    server.onGet('/api/v1/devices').reply(200, { items: [], total: 7, limit: 1, offset: 0 });
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

  it('counts the machines with a one-item page of GET /api/v1/devices', async () => {
    server.onGet('/health').reply(200, healthyReport);
    server.onGet('/api/v1/system/info').reply(200, systemInfo);
    renderApp('/');
    expect(await within(card('Machines')).findByTestId('machine-count')).toHaveTextContent('7');
    const request = server.history.get.find((r) => r.url === '/api/v1/devices')!;
    expect(request.params).toEqual({ limit: 1 });
  });
});
