import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { navSections } from './components/navigation';
import {
  mockServer,
  renderApp,
  signInAs,
  mockDashboardApi,
  superAdmin,
  viewerAdmin,
} from './test/render';

describe('routes', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    mockDashboardApi(server);
  });
  afterEach(() => server.restore());

  it('renders a not-found page for unknown paths, with a way back', async () => {
    signInAs(superAdmin);
    const { router } = renderApp('/some/unknown/route');
    expect(screen.getByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
    expect(screen.getByText('/some/unknown/route')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('link', { name: 'Back to the dashboard' }));
    expect(router.state.location.pathname).toBe('/');
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
  });

  it.each(navSections.filter((s) => !s.available).map((s) => s.path))(
    'has no placeholder page for the unavailable section %s',
    (path) => {
      signInAs(superAdmin);
      renderApp(path);
      expect(screen.getByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
    },
  );

  it.each(navSections.filter((s) => s.available).map((s) => s.path))(
    'has a real page for the available section %s',
    async (path) => {
      signInAs(superAdmin);
      server.onGet('/api/v1/users').reply(200, { items: [], total: 0 });
      server.onGet('/api/v1/audit-log').reply(200, { items: [], total: 0 });
      server.onGet('/api/v1/rules').reply(200, { items: [], total: 0 });
      server.onGet('/api/v1/alerts').reply(200, { items: [], total: 0 });
      server.onGet('/api/v1/jobs/dead-letters').reply(200, { items: [] });
      server.onGet('/api/v1/telemetry/storage').reply(200, {
        engine: 'embedded',
        bytes: 0,
        series: 0,
        retention: {
          raw_days: 183,
          rollup_days: 730,
          raw_days_default: 183,
          rollup_days_default: 730,
          overridden: false,
        },
      });
      renderApp(path);
      expect(await screen.findByRole('heading', { level: 1 })).toBeInTheDocument();
      expect(screen.queryByRole('heading', { name: 'Page not found' })).toBeNull();
    },
  );

  it.each(['/', '/machines', '/users', '/some/unknown/route'])(
    'sends a visitor without a session from %s to sign in, remembering the page',
    (path) => {
      const { router } = renderApp(path);
      expect(screen.getByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
      expect(router.state.location.pathname).toBe('/login');
      const next = new URLSearchParams(router.state.location.search).get('next');
      expect(next).toBe(path === '/' ? null : path);
    },
  );

  it.each([
    ['/users', '/api/v1/users'],
    ['/audit-log', '/api/v1/audit-log'],
    ['/jobs/dead-letters', '/api/v1/jobs/dead-letters'],
    ['/storage', '/api/v1/telemetry/storage'],
  ])('tells an admin they have no access to %s, without asking the server', (path, api) => {
    signInAs(viewerAdmin);
    renderApp(path);
    expect(
      screen.getByRole('heading', { name: "You don't have access to this page" }),
    ).toBeInTheDocument();
    expect(server.history.get.filter((r) => r.url === api)).toEqual([]);
  });

  it('shows the user and role in the header', () => {
    signInAs(viewerAdmin);
    renderApp('/');
    const header = screen.getByRole('banner');
    expect(within(header).getByTestId('session-email')).toHaveTextContent('ana@plant.example');
    expect(within(header).getByTestId('session-role')).toHaveTextContent('Admin');
  });
});

describe('the signed-in user', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  it('is re-read from /auth/me so a demotion hides Users without signing in again', async () => {
    signInAs(superAdmin);
    server.onGet('/api/v1/auth/me').reply(200, { ...superAdmin, role: 'admin' });
    mockDashboardApi(server);
    renderApp('/');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Users' })).toBeInTheDocument();
    await waitFor(() => expect(within(nav).queryByRole('link', { name: 'Users' })).toBeNull());
  });
});
