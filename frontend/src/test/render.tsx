import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import MockAdapter from 'axios-mock-adapter';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { http } from '../api/client';
import { routes } from '../routes';

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
  return new MockAdapter(http, { onNoMatch: 'throwException' });
}

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
