import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockServer, renderApp, signInAs, superAdmin, viewerAdmin } from '../test/render';

const invitation = {
  id: 9,
  email: 'new@plant.example',
  role: 'admin',
  permissions: { rules: true, analytics: false, reports: false, machines: false },
  expires_at: '2026-01-05T00:00:00Z',
};

describe('UsersPage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(superAdmin);
  });
  afterEach(() => server.restore());

  it('lists users with role, permission chips, state and last sign-in', async () => {
    server.onGet('/api/v1/users').reply(200, {
      items: [
        superAdmin,
        { ...viewerAdmin, permissions: { ...invitation.permissions }, is_active: false },
      ],
      total: 2,
    });
    renderApp('/users');
    const row = await screen.findByTestId('user-row-ana@plant.example');
    expect(within(row).getByText('Admin')).toBeInTheDocument();
    expect(within(row).getByRole('list', { name: 'Permissions' })).toHaveTextContent('Rules');
    expect(within(row).getByText('No')).toBeInTheDocument();
    expect(within(row).getByText('Never')).toBeInTheDocument();
    expect(within(row).queryByRole('button', { name: /Deactivate/ })).toBeNull();
  });

  it('shows an empty state and the server error', async () => {
    server.onGet('/api/v1/users').replyOnce(500, {
      error: { code: 'internal', message: 'Database is locked.', request_id: 'r1' },
    });
    server.onGet('/api/v1/users').reply(200, { items: [], total: 0 });
    renderApp('/users');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Database is locked.');
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('No users yet.')).toBeInTheDocument();
  });

  it('invites an admin with chosen permissions and shows the link as an absolute URL once', async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin], total: 1 });
    server.onPost('/api/v1/users/invite').reply(201, {
      invitation,
      invite_url: '/accept-invite?token=tok-abc',
      email: 'not_configured',
    });
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Invite' }));
    const dialog = screen.getByRole('dialog', { name: 'Invite a user' });
    await userEvent.type(within(dialog).getByLabelText('Email'), ' new@plant.example ');
    await userEvent.click(within(dialog).getByLabelText('Rules'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create invitation' }));

    const done = await screen.findByRole('dialog', { name: 'Invitation created' });
    const link = within(done).getByTestId('invite-url');
    expect(link).toHaveTextContent(`${window.location.origin}/accept-invite?token=tok-abc`);
    expect(link).toHaveAttribute('href', `${window.location.origin}/accept-invite?token=tok-abc`);
    expect(done).toHaveTextContent('shown only now');
    expect(done).toHaveTextContent('72 hours');
    expect(within(done).getByTestId('invite-email-state')).toHaveTextContent(
      'No email is sent: this installation has no mail server configured.',
    );
    expect(within(done).getByRole('button', { name: 'Copy link' })).toBeInTheDocument();
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({
      email: 'new@plant.example',
      role: 'admin',
      permissions: { rules: true, analytics: false, reports: false, machines: false },
    });

    await userEvent.click(within(done).getByRole('button', { name: 'Done' }));
    expect(screen.queryByTestId('invite-url')).toBeNull();
  });

  it('says when the invitation email is on its way', async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin], total: 1 });
    server.onPost('/api/v1/users/invite').reply(201, {
      invitation,
      invite_url: '/accept-invite?token=tok-abc',
      email: 'queued',
    });
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Invite' }));
    const dialog = screen.getByRole('dialog', { name: 'Invite a user' });
    await userEvent.type(within(dialog).getByLabelText('Email'), 'new@plant.example');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create invitation' }));
    const done = await screen.findByRole('dialog', { name: 'Invitation created' });
    expect(within(done).getByTestId('invite-email-state')).toHaveTextContent(
      `An invitation email is on its way to ${invitation.email}`,
    );
    expect(within(done).getByTestId('invite-url')).toBeInTheDocument();
  });

  it('refuses an answer without the email state', async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin], total: 1 });
    server.onPost('/api/v1/users/invite').reply(201, {
      invitation,
      invite_url: '/accept-invite?token=tok-abc',
    });
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Invite' }));
    const dialog = screen.getByRole('dialog', { name: 'Invite a user' });
    await userEvent.type(within(dialog).getByLabelText('Email'), 'new@plant.example');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create invitation' }));
    expect(await within(dialog).findByRole('alert')).toBeInTheDocument();
    expect(screen.queryByTestId('invite-url')).toBeNull();
  });

  it("checks the email before sending and shows the server's 409", async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin], total: 1 });
    server.onPost('/api/v1/users/invite').replyOnce(409, {
      error: { code: 'conflict', message: 'That email is already a user here.', request_id: 'r' },
    });
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Invite' }));
    const dialog = screen.getByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create invitation' }));
    expect(
      within(dialog).getByText('Enter the email address of the person to invite.'),
    ).toBeInTheDocument();
    await userEvent.type(within(dialog).getByLabelText('Email'), 'nope@');
    expect(
      within(dialog).getByText('Enter an email address such as name@example.com.'),
    ).toBeInTheDocument();
    expect(server.history.post).toHaveLength(0);

    await userEvent.clear(within(dialog).getByLabelText('Email'));
    await userEvent.type(within(dialog).getByLabelText('Email'), 'ana@plant.example');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create invitation' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'That email is already a user here.',
    );
  });

  it('shows a 409 for the last super admin inline in the edit dialog', async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin], total: 1 });
    server.onPatch('/api/v1/users/1').reply(409, {
      error: {
        code: 'conflict',
        message: 'The factory would have no active super admin.',
        request_id: 'r',
      },
    });
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit boss@plant.example' }));
    const dialog = screen.getByRole('dialog');
    await userEvent.selectOptions(within(dialog).getByLabelText('Role'), 'admin');
    await userEvent.click(within(dialog).getByLabelText('Machines'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('The factory would have no active super admin.');
    expect(alert).toHaveTextContent('at least one active super admin');
    expect(JSON.parse(server.history.patch[0]!.data as string)).toEqual({
      role: 'admin',
      permissions: { rules: false, analytics: false, reports: false, machines: true },
      is_active: true,
    });
  });

  it('renames a user, sending the trimmed name with the other fields', async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin, viewerAdmin], total: 2 });
    server.onPatch('/api/v1/users/2').reply(200, { ...viewerAdmin, name: 'Ana Lima' });
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit ana@plant.example' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit ana@plant.example' });
    const name = within(dialog).getByLabelText('Name');
    expect(name).toHaveValue('Ana');
    await userEvent.clear(name);
    await userEvent.type(name, '  Ana Lima ');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(server.history.patch[0]!.data as string)).toEqual({
      name: 'Ana Lima',
      role: 'admin',
      permissions: viewerAdmin.permissions,
      is_active: true,
    });
  });

  it('checks the name before sending and leaves an unchanged name out', async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin, viewerAdmin], total: 2 });
    server.onPatch('/api/v1/users/2').reply(200, viewerAdmin);
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit ana@plant.example' }));
    const dialog = screen.getByRole('dialog');
    const name = within(dialog).getByLabelText('Name');

    await userEvent.clear(name);
    await userEvent.type(name, '   ');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(within(dialog).getByText('Enter a name.')).toBeInTheDocument();
    expect(name).toHaveAttribute('aria-invalid', 'true');

    await userEvent.clear(name);
    await userEvent.click(name);
    await userEvent.paste('x'.repeat(256));
    expect(within(dialog).getByText('Use at most 255 characters.')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(server.history.patch).toHaveLength(0);

    await userEvent.clear(name);
    await userEvent.type(name, ' Ana ');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(server.history.patch).toHaveLength(1));
    expect(JSON.parse(server.history.patch[0]!.data as string)).not.toHaveProperty('name');
  });

  it("shows the server's 400 under the name field", async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin, viewerAdmin], total: 2 });
    server.onPatch('/api/v1/users/2').reply(400, {
      error: {
        code: 'invalid',
        message: 'The name contains a control character.',
        field: 'name',
        request_id: 'r',
      },
    });
    renderApp('/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit ana@plant.example' }));
    const dialog = screen.getByRole('dialog');
    const name = within(dialog).getByLabelText('Name');
    await userEvent.clear(name);
    await userEvent.type(name, 'Ana B');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    const message = await within(dialog).findByText('The name contains a control character.');
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(name.getAttribute('aria-describedby')).toContain(message.id);
    expect(within(dialog).queryByRole('alert')).toBeNull();
  });

  it('deactivates after confirmation and shows a 409 inline', async () => {
    server.onGet('/api/v1/users').reply(200, { items: [superAdmin, viewerAdmin], total: 2 });
    server.onDelete('/api/v1/users/1').reply(409, {
      error: { code: 'conflict', message: 'Last active super admin.', request_id: 'r' },
    });
    server.onDelete('/api/v1/users/2').reply(204);
    renderApp('/users');
    await userEvent.click(
      await screen.findByRole('button', { name: 'Deactivate boss@plant.example' }),
    );
    let dialog = screen.getByRole('dialog', { name: 'Deactivate user' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Deactivate' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Last active super admin.');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));

    await userEvent.click(screen.getByRole('button', { name: 'Deactivate ana@plant.example' }));
    dialog = screen.getByRole('dialog', { name: 'Deactivate user' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Deactivate' }));
    expect(await screen.findByRole('button', { name: 'Invite' })).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(server.history.delete.map((r) => r.url)).toEqual(['/api/v1/users/1', '/api/v1/users/2']);
  });
});
