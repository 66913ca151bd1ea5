import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useSessionStore } from '../stores/session';
import {
  mockServer,
  renderApp,
  signInAs,
  mockDashboardApi,
  tokens,
  viewerAdmin,
} from '../test/render';

const url = '/api/v1/auth/accept-invite';

async function fill(name: string, password: string, confirm = password) {
  if (name) await userEvent.type(screen.getByLabelText('Your name'), name);
  if (password) await userEvent.type(screen.getByLabelText('Password'), password);
  if (confirm) await userEvent.type(screen.getByLabelText('Repeat password'), confirm);
  await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
}

describe('AcceptInvitePage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  it('checks name, password length and the repeated password before sending', async () => {
    renderApp('/accept-invite?token=t1');
    await fill('', 'short', 'other');
    expect(screen.getByLabelText('Your name')).toHaveAccessibleDescription('Enter your name.');
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(
      /Use at least 12 characters\./,
    );
    expect(screen.getByLabelText('Repeat password')).toHaveAccessibleDescription(
      'The two passwords differ.',
    );
    expect(server.history.post).toHaveLength(0);
  });

  it('signs the new user in and opens the dashboard', async () => {
    server.onPost(url).reply(200, tokens(viewerAdmin, 'a-new', 'r-new'));
    mockDashboardApi(server);
    const { router } = renderApp('/accept-invite?token=tok-1');
    await fill(' Ana ', 'a long enough secret');
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({
      token: 'tok-1',
      name: 'Ana',
      password: 'a long enough secret',
    });
    expect(useSessionStore.getState().session?.accessToken).toBe('a-new');
  });

  it.each([
    [400, { code: 'invalid_argument', message: 'token: expired', request_id: 'r', field: 'token' }],
    [401, { code: 'unauthorized', message: 'Invalid invitation.', request_id: 'r' }],
    [404, { code: 'not_found', message: 'No such invitation.', request_id: 'r' }],
  ])('explains an expired or invalid token (HTTP %i)', async (status, error) => {
    server.onPost(url).reply(status, { error });
    renderApp('/accept-invite?token=old');
    await fill('Ana', 'a long enough secret');
    expect(await screen.findByRole('alert')).toHaveTextContent(
      /invitation link is invalid.*expired.*Ask your administrator for a new one/,
    );
  });

  it("attaches the server's password refusal to the password field", async () => {
    server.onPost(url).reply(400, {
      error: {
        code: 'invalid_argument',
        message: 'password: too common',
        request_id: 'r',
        field: 'password',
      },
    });
    renderApp('/accept-invite?token=t');
    await fill('Ana', 'password1234');
    expect(await screen.findByText('password: too common')).toBeInTheDocument();
    expect(screen.getByLabelText('Password')).toHaveAttribute('aria-invalid', 'true');
  });

  it('says so when the link has no token', () => {
    renderApp('/accept-invite');
    expect(screen.getByRole('alert')).toHaveTextContent('no invitation token');
  });
});

describe('Change password', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(viewerAdmin);
    mockDashboardApi(server);
  });
  afterEach(() => server.restore());

  async function open() {
    renderApp('/');
    await userEvent.click(
      within(screen.getByRole('banner')).getByRole('button', { name: 'Change password' }),
    );
    return screen.getByRole('dialog', { name: 'Change password' });
  }

  it('validates, then signs the user out with a message once the server agrees', async () => {
    server.onPost('/api/v1/auth/change-password').reply(204);
    const dialog = await open();
    await userEvent.type(within(dialog).getByLabelText('New password'), 'short');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change password' }));
    expect(within(dialog).getByLabelText('Current password')).toHaveAccessibleDescription(
      'Enter your current password.',
    );
    expect(within(dialog).getByLabelText('New password')).toHaveAccessibleDescription(
      /Use at least 12 characters\./,
    );
    expect(server.history.post).toHaveLength(0);

    await userEvent.type(within(dialog).getByLabelText('Current password'), 'old password 1');
    await userEvent.clear(within(dialog).getByLabelText('New password'));
    await userEvent.type(within(dialog).getByLabelText('New password'), 'new password 12');
    await userEvent.type(within(dialog).getByLabelText('Repeat new password'), 'new password 12');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change password' }));

    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Sign in with the new password');
    expect(useSessionStore.getState().session).toBeNull();
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({
      current_password: 'old password 1',
      new_password: 'new password 12',
    });
  });

  it('shows a wrong current password at that field and keeps the session', async () => {
    server.onPost('/api/v1/auth/change-password').reply(401, {
      error: { code: 'unauthorized', message: 'The current password is wrong.', request_id: 'r' },
    });
    const dialog = await open();
    await userEvent.type(within(dialog).getByLabelText('Current password'), 'not it at all');
    await userEvent.type(within(dialog).getByLabelText('New password'), 'new password 12');
    await userEvent.type(within(dialog).getByLabelText('Repeat new password'), 'new password 12');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change password' }));
    expect(await within(dialog).findByText('The current password is wrong.')).toBeInTheDocument();
    expect(useSessionStore.getState().session).not.toBeNull();
    expect(server.history.post.filter((r) => r.url === '/api/v1/auth/refresh')).toHaveLength(0);
  });

  it('puts a 400 naming new_password under the new password', async () => {
    server.onPost('/api/v1/auth/change-password').reply(400, {
      error: {
        code: 'invalid_argument',
        message: 'new_password: too common',
        request_id: 'r',
        field: 'new_password',
      },
    });
    const dialog = await open();
    await userEvent.type(within(dialog).getByLabelText('Current password'), 'old password 1');
    await userEvent.type(within(dialog).getByLabelText('New password'), 'password1234');
    await userEvent.type(within(dialog).getByLabelText('Repeat new password'), 'password1234');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change password' }));
    expect(await within(dialog).findByText('new_password: too common')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('New password')).toHaveAttribute('aria-invalid', 'true');
  });
});
