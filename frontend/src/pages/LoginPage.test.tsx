import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_STORAGE_KEY, useSessionStore } from '../stores/session';
import {
  mockServer,
  renderApp,
  signInAs,
  mockDashboardApi,
  tokens,
  viewerAdmin,
} from '../test/render';
import { validateLogin } from './loginValidation';

const loginUrl = '/api/v1/auth/login';

async function fillIn(values: { factoryId?: string; email?: string; password?: string }) {
  const user = userEvent.setup();
  if (values.factoryId) await user.type(screen.getByLabelText('Factory ID'), values.factoryId);
  if (values.email) await user.type(screen.getByLabelText('Email'), values.email);
  if (values.password) await user.type(screen.getByLabelText('Password'), values.password);
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}

const valid = { factoryId: 'plant-01', email: 'ana@plant.example', password: 's3cret' };

describe('validateLogin', () => {
  it.each(['plant-01', 'a', 'p_2', 'x'.repeat(64)])('accepts the factory id %s', (factoryId) => {
    expect(validateLogin({ ...valid, factoryId }).factoryId).toBeUndefined();
  });

  it.each(['Plant-01', '-plant', '_p', 'plant 1', 'plant.1', 'x'.repeat(65)])(
    'rejects the factory id %s',
    (factoryId) => {
      expect(validateLogin({ ...valid, factoryId }).factoryId).toMatch(/lowercase/);
    },
  );

  it.each(['ana@plant.example', 'ops@localhost', ' ana@plant.example '])(
    'accepts the email %s',
    (email) => {
      expect(validateLogin({ ...valid, email }).email).toBeUndefined();
    },
  );

  it.each(['ana', 'ana@', '@plant.example', 'ana@plant.', 'a b@plant.example', 'a@b@c'])(
    'rejects the email %s',
    (email) => {
      expect(validateLogin({ ...valid, email }).email).toBeDefined();
    },
  );
});

describe('LoginPage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  it('shows a message under every empty field and sends nothing', async () => {
    renderApp('/login');
    await fillIn({});
    expect(screen.getByLabelText('Factory ID')).toHaveAccessibleDescription(
      expect.stringContaining('Enter your factory ID.'),
    );
    expect(screen.getByLabelText('Email')).toHaveAccessibleDescription('Enter your email address.');
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription('Enter your password.');
    expect(screen.getByLabelText('Factory ID')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('Factory ID')).toHaveFocus();
    expect(server.history.post).toHaveLength(0);
  });

  it('explains a malformed factory id and email', async () => {
    renderApp('/login');
    await fillIn({ factoryId: 'Plant 1', email: 'ana@', password: 'x' });
    expect(
      screen.getByText(
        'Use up to 64 lowercase letters, digits, "-" or "_", starting with a letter or digit.',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Enter an email address such as name@example.com.'),
    ).toBeInTheDocument();
    expect(screen.queryByText('Enter your password.')).toBeNull();
    expect(server.history.post).toHaveLength(0);
  });

  it('clears a field message as soon as the field is fixed', async () => {
    renderApp('/login');
    await fillIn({ email: 'ana@plant.example', password: 'x' });
    expect(screen.getByText('Enter your factory ID.')).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Factory ID'), 'plant');
    expect(screen.queryByText('Enter your factory ID.')).toBeNull();
  });

  it('tells the user when the server has no sign-in endpoint yet', async () => {
    server.onPost(loginUrl).reply(404, {
      error: {
        code: 'not_found',
        message: 'No route for POST /api/v1/auth/login',
        request_id: 'r1',
      },
    });
    renderApp('/login');
    await fillIn(valid);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Sign-in is not enabled on this server yet.',
    );
  });

  it('tells the user when the server cannot be reached', async () => {
    server.onPost(loginUrl).networkError();
    renderApp('/login');
    await fillIn(valid);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Cannot reach the FactoryOps server.',
    );
  });

  it("shows the server's message for a refused sign-in", async () => {
    server.onPost(loginUrl).reply(401, {
      error: { code: 'unauthorized', message: 'Wrong email or password.', request_id: 'r-9' },
    });
    renderApp('/login');
    await fillIn(valid);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Wrong email or password.');
    expect(alert).toHaveTextContent('Request ID: r-9');
    expect(useSessionStore.getState().session).toBeNull();
  });

  it('posts the credentials, keeps the session in sessionStorage and opens the dashboard', async () => {
    server.onPost(loginUrl).reply(200, tokens(viewerAdmin, 'access-1', 'refresh-1'));
    mockDashboardApi(server);
    const { router } = renderApp('/login');
    await fillIn({ ...valid, email: ' ana@plant.example ' });

    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');

    const posted = server.history.post[0]!;
    expect(JSON.parse(posted.data as string)).toEqual({
      factory_id: 'plant-01',
      email: 'ana@plant.example',
      password: 's3cret',
    });

    const stored = JSON.parse(sessionStorage.getItem(SESSION_STORAGE_KEY) ?? 'null') as {
      state: { session: { accessToken: string } };
    };
    expect(stored.state.session.accessToken).toBe('access-1');

    const header = screen.getByRole('banner');
    expect(within(header).getByText('ana@plant.example')).toBeInTheDocument();
    server.onPost('/api/v1/auth/logout').reply(204);
    await userEvent.click(within(header).getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(useSessionStore.getState().session).toBeNull();
    const logout = server.history.post.find((r) => r.url === '/api/v1/auth/logout')!;
    expect(JSON.parse(logout.data as string)).toEqual({ refresh_token: 'refresh-1' });
  });

  it('returns to the page in "next" after signing in', async () => {
    server.onPost(loginUrl).reply(200, tokens(viewerAdmin));
    server.onGet('/api/v1/devices').reply(200, { items: [], total: 0, limit: 20, offset: 0 });
    const { router } = renderApp('/login?next=%2Fmachines%3Fsearch%3Dpump');
    await fillIn(valid);
    expect(await screen.findByRole('heading', { name: 'Machines' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/machines');
    expect(router.state.location.search).toBe('?search=pump');
  });

  it('ignores a "next" that points to another site', async () => {
    server.onPost(loginUrl).reply(200, tokens(viewerAdmin));
    mockDashboardApi(server);
    const { router } = renderApp('/login?next=%2F%2Fevil.example%2F');
    await fillIn(valid);
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');
  });

  it('explains why the user has to sign in again after the session ended', async () => {
    signInAs(viewerAdmin, 'old', 'refresh-old');
    mockDashboardApi(server);
    server.onGet('/api/v1/devices').reply(401, {
      error: { code: 'unauthorized', message: 'Token expired.', request_id: 'r' },
    });
    server.onPost('/api/v1/auth/refresh').reply(401, {
      error: { code: 'unauthorized', message: 'Refresh token reused.', request_id: 'r' },
    });
    const { router } = renderApp('/machines');
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(new URLSearchParams(router.state.location.search).get('next')).toBe('/machines');
    expect(screen.getByRole('status')).toHaveTextContent('Your session has ended');
  });
});
