import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { navSections } from './components/navigation';
import { healthyReport, mockServer, renderApp, systemInfo } from './test/render';

describe('routes', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    server.onGet('/health').reply(200, healthyReport);
    server.onGet('/api/v1/system/info').reply(200, systemInfo);
  });
  afterEach(() => server.restore());

  it('renders a not-found page for unknown paths, with a way back', async () => {
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
      renderApp(path);
      expect(screen.getByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
    },
  );

  it.each(navSections.filter((s) => s.available).map((s) => s.path))(
    'has a real page for the available section %s',
    (path) => {
      renderApp(path);
      expect(screen.queryByRole('heading', { name: 'Page not found' })).toBeNull();
    },
  );

  it('offers "Sign in" in the header when nobody is signed in', () => {
    renderApp('/');
    expect(screen.getByRole('link', { name: 'Sign in' })).toHaveAttribute('href', '/login');
  });
});
