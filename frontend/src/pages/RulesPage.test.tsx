import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockServer, renderApp, signInAs, viewerAdmin } from '../test/render';
import { compressorRule, page, ruleAdmin } from '../test/ruleFixtures';

const second = {
  ...compressorRule,
  id: 8,
  name: 'Oven silent',
  severity: 'minor' as const,
  enabled: false,
  scope: { kind: 'devices' as const, device_ids: ['oven-2'] },
  logic: 'and' as const,
  conditions: [{ kind: 'no_data' as const, minutes: 10 }],
  duration_seconds: 0,
  channels: { email: [], whatsapp: [], in_app: true },
};

describe('RulesPage', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  it('lists each rule with its severity, machines, condition, channels and state', async () => {
    signInAs(ruleAdmin);
    server.onGet('/api/v1/rules').reply(200, page([compressorRule, second]));
    renderApp('/rules');
    const row = await screen.findByTestId('rule-row-7');
    expect(within(row).getByRole('link', { name: 'Compressor power high' })).toHaveAttribute(
      'href',
      '/rules/7',
    );
    expect(within(row).getByTestId('severity')).toHaveTextContent('critical');
    expect(row).toHaveTextContent('Type: compressor');
    expect(within(row).getByTestId('rule-condition')).toHaveTextContent('power_kw > 75 for 5 min');
    expect(row).toHaveTextContent('1 email, 1 WhatsApp, in-app');
    expect(
      within(row).getByRole('switch', { name: 'Enabled: Compressor power high' }),
    ).toBeChecked();
    const other = screen.getByTestId('rule-row-8');
    expect(within(other).getByTestId('rule-condition')).toHaveTextContent('no data for 10 min');
    expect(other).toHaveTextContent('oven-2');
    expect(within(other).getByRole('switch')).not.toBeChecked();
    expect(screen.getByRole('link', { name: 'New rule' })).toHaveAttribute('href', '/rules/new');
  });

  it('disables a rule with the switch and keeps it off once the server agrees', async () => {
    signInAs(ruleAdmin);
    server.onGet('/api/v1/rules').replyOnce(200, page([compressorRule]));
    server.onGet('/api/v1/rules').reply(200, page([{ ...compressorRule, enabled: false }]));
    server.onPatch('/api/v1/rules/7').reply(200, { ...compressorRule, enabled: false });
    renderApp('/rules');
    const toggle = await screen.findByRole('switch', { name: 'Enabled: Compressor power high' });
    await userEvent.click(toggle);
    expect(toggle).not.toBeChecked();
    await waitFor(() => expect(server.history.patch).toHaveLength(1));
    expect(JSON.parse(server.history.patch[0]!.data as string)).toEqual({ enabled: false });
    await waitFor(() =>
      expect(server.history.get.filter((r) => r.url === '/api/v1/rules')).toHaveLength(2),
    );
    expect(toggle).not.toBeChecked();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('turns the switch back and says why when the server refuses', async () => {
    signInAs(ruleAdmin);
    server.onGet('/api/v1/rules').replyOnce(200, page([compressorRule]));
    // Later reads never answer: only the rollback itself can turn the switch back.
    server.onGet('/api/v1/rules').reply(() => new Promise(() => {}));
    server.onPatch('/api/v1/rules/7').reply(403, {
      error: { code: 'forbidden', message: 'You may not manage rules.', request_id: 'r9' },
    });
    renderApp('/rules');
    const toggle = await screen.findByRole('switch', { name: 'Enabled: Compressor power high' });
    await userEvent.click(toggle);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('“Compressor power high” was not disabled');
    expect(alert).toHaveTextContent('You may not manage rules.');
    expect(toggle).toBeChecked();
  });

  it('offers to create the first rule when there is none', async () => {
    signInAs(ruleAdmin);
    server.onGet('/api/v1/rules').reply(200, page([]));
    const { router } = renderApp('/rules');
    await userEvent.click(await screen.findByRole('link', { name: 'Create the first rule' }));
    expect(router.state.location.pathname).toBe('/rules/new');
    expect(await screen.findByRole('heading', { name: 'New rule' })).toBeInTheDocument();
  });

  it('shows rules read-only to an admin without the rules permission', async () => {
    signInAs(viewerAdmin);
    server.onGet('/api/v1/rules').reply(200, page([compressorRule]));
    renderApp('/rules');
    const row = await screen.findByTestId('rule-row-7');
    expect(within(row).queryByRole('switch')).toBeNull();
    expect(row).toHaveTextContent('on');
    expect(screen.queryByRole('link', { name: 'New rule' })).toBeNull();
  });

  it('refuses the new-rule page to an admin without the rules permission', () => {
    signInAs(viewerAdmin);
    renderApp('/rules/new');
    expect(
      screen.getByRole('heading', { name: "You don't have access to this page" }),
    ).toBeInTheDocument();
  });

  it('shows the error of a failed load and recovers on retry', async () => {
    signInAs(viewerAdmin);
    server.onGet('/api/v1/rules').replyOnce(503, {
      error: { code: 'unavailable', message: 'Database unavailable.', request_id: 'r1' },
    });
    server.onGet('/api/v1/rules').reply(200, page([]));
    renderApp('/rules');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The rule list is unavailable');
    expect(alert).toHaveTextContent('Database unavailable.');
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText(/No alert rules yet/)).toBeInTheDocument();
    expect(screen.getByText(/An admin with the rules permission/)).toBeInTheDocument();
  });
});
