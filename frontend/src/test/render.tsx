import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import MockAdapter from 'axios-mock-adapter';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { http } from '../api/client';
import type { User } from '../api/types';
import { routes } from '../routes';
import { useSessionStore } from '../stores/session';

/**
 * Renders the real route table at `path`, with a query client that does not retry so a
 * failing request shows its error state at once.
 */
export function renderApp(path: string) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { ...view, router, queryClient };
}

/**
 * Replaces the network under the app's one Axios instance. Requests nobody stubbed fail the
 * test instead of silently hanging.
 */
export function mockServer(): MockAdapter {
  const server = new MockAdapter(http, { onNoMatch: 'throwException' });
  // The layout re-reads the signed-in user; answer with whoever the session holds.
  server.onGet('/api/v1/auth/me').reply(() => {
    const user = useSessionStore.getState().session?.user;
    return user ? [200, user] : [401, { error: { code: 'unauthorized', message: 'No session.' } }];
  });
  // The dashboard and the machine list show unresolved alerts; by default there are none. A
  // test stubbing the same URL replaces this answer.
  server.onGet('/api/v1/alerts/counts').reply(200, noAlertCounts);
  return server;
}

export const noAlertCounts = { open: 0, acknowledged: 0, by_severity: {}, by_device: {} };

export const healthyReport = {
  status: 'healthy',
  service: 'factoryops',
  dependencies: { metadata_db: 'ok', tsdb: 'ok' },
};

export const systemInfo = {
  name: 'FactoryOps',
  version: '0.3.1',
  roles: ['api', 'telemetry'],
  metadata_backend: 'sqlite',
  started_at: '2025-01-02T03:04:05Z',
  uptime_seconds: 3_725,
};

export const superAdmin: User = {
  id: 1,
  factory_id: 'plant-01',
  email: 'boss@plant.example',
  name: 'Bea Boss',
  role: 'super_admin',
  permissions: { rules: false, analytics: false, reports: false, machines: false },
  is_active: true,
  last_login_at: '2026-01-02T03:04:05Z',
  created_at: '2026-01-01T00:00:00Z',
};

export const viewerAdmin: User = {
  ...superAdmin,
  id: 2,
  email: 'ana@plant.example',
  name: 'Ana',
  role: 'admin',
  last_login_at: null,
};

export const machineAdmin: User = {
  ...viewerAdmin,
  id: 3,
  email: 'mo@plant.example',
  name: 'Mo',
  permissions: { ...viewerAdmin.permissions, machines: true },
};

/** The body of a successful login, refresh or invitation acceptance. */
export function tokens(user: User = superAdmin, access = 'access-1', refresh = 'refresh-1') {
  return {
    access_token: access,
    token_type: 'bearer' as const,
    expires_in: 900,
    refresh_token: refresh,
    user,
  };
}

/** Puts a session into the store as if `user` had just signed in. */
export function signInAs(user: User = superAdmin, access = 'access-1', refresh = 'refresh-1') {
  useSessionStore.getState().signIn(tokens(user, access, refresh));
}

/** Answers the dashboard's own requests (health, system info, a factory without machines). */
export function mockDashboardApi(server: MockAdapter) {
  server.onGet('/health').reply(200, healthyReport);
  server.onGet('/api/v1/system/info').reply(200, systemInfo);
  server.onGet('/api/v1/devices').reply(200, { items: [], total: 0, limit: 500, offset: 0 });
}
