import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockServer, renderApp, signInAs, superAdmin, viewerAdmin } from '../test/render';

const entry = {
  id: 7,
  user_id: 2,
  user_email: 'ana@plant.example',
  action: 'auth.login',
  resource_type: null,
  resource_id: null,
  details: null,
  ip: '10.0.0.5',
  request_id: 'req-7',
  created_at: '2026-01-02T03:04:05Z',
};

type Params = Record<string, unknown>;

describe('AuditLogPage', () => {
  let server: MockAdapter;
  let requests: Params[];
  beforeEach(() => {
    server = mockServer();
    signInAs(superAdmin);
    requests = [];
    server.onGet('/api/v1/users').reply(200, {
      items: [superAdmin, { ...viewerAdmin, name: '' }],
      total: 2,
    });
    server.onGet('/api/v1/audit-log').reply((config) => {
      requests.push({ ...(config.params as Params) });
      return [200, { items: [entry], total: 120 }];
    });
  });
  afterEach(() => server.restore());

  const last = () => requests[requests.length - 1]!;

  it("lists the factory's users in the User filter, with Anyone first", async () => {
    renderApp('/audit-log');
    const select = await screen.findByLabelText('User');
    await waitFor(() => expect(within(select).getAllByRole('option')).toHaveLength(3));
    expect(
      within(select)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['Anyone', 'Bea Boss (boss@plant.example)', 'ana@plant.example']);
    expect(select).toHaveValue('');
    await screen.findByText('req-7');
    expect(last()).not.toHaveProperty('user_id');
  });

  it('sends user_id, keeps it in the URL and goes back to the first page', async () => {
    const { router } = renderApp('/audit-log?action=auth.login&offset=50');
    await screen.findByText('req-7');
    expect(last()).toMatchObject({ action: 'auth.login', offset: 50 });

    const select = screen.getByLabelText('User');
    await waitFor(() => expect(within(select).getAllByRole('option')).toHaveLength(3));
    await userEvent.selectOptions(select, '2');
    await waitFor(() => expect(last()).toMatchObject({ user_id: '2', offset: 0 }));
    expect(last()).toMatchObject({ action: 'auth.login', limit: 50 });
    let search = new URLSearchParams(router.state.location.search);
    expect(search.get('user_id')).toBe('2');
    expect(search.get('action')).toBe('auth.login');
    expect(search.has('offset')).toBe(false);

    await userEvent.click(await screen.findByRole('button', { name: 'Next' }));
    await waitFor(() => expect(last()).toMatchObject({ user_id: '2', offset: 50 }));

    await userEvent.selectOptions(screen.getByLabelText('User'), '');
    await waitFor(() => expect(last()).toMatchObject({ offset: 0 }));
    expect(last()).not.toHaveProperty('user_id');
    search = new URLSearchParams(router.state.location.search);
    expect(search.has('user_id')).toBe(false);
    expect(search.has('offset')).toBe(false);
    expect(search.get('action')).toBe('auth.login');
  });

  it('applies a user filter taken from the URL', async () => {
    renderApp('/audit-log?user_id=1');
    await screen.findByText('req-7');
    expect(requests[0]).toMatchObject({ user_id: '1', offset: 0 });
    expect(await screen.findByLabelText('User')).toHaveValue('1');
  });
});
