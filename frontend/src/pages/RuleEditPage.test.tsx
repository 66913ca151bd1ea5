import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Device } from '../api/types';
import { mockServer, renderApp, signInAs, viewerAdmin } from '../test/render';
import { compressorRule, page, ruleAdmin, testResult } from '../test/ruleFixtures';

const machine = (id: string, name: string): Device => ({
  device_id: id,
  name,
  type: 'compressor',
  location: null,
  line: null,
  rated_power_kw: null,
  metadata: null,
  api_key_prefix: 'fo_abcde',
  is_enabled: true,
  status: 'online',
  last_seen_at: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
});

const posted = (server: MockAdapter, url: string) =>
  server.history.post
    .filter((r) => r.url === url)
    .map((r) => JSON.parse(r.data as string) as unknown);

const condition = (n: number) => screen.getByRole('group', { name: `Condition ${n}` });

async function type(label: string | HTMLElement, text: string, scope: HTMLElement = document.body) {
  const input = typeof label === 'string' ? await within(scope).findByLabelText(label) : label;
  await userEvent.clear(input);
  if (text !== '') await userEvent.type(input, text);
  return input;
}

/** The smallest valid rule: a name and one threshold condition. */
async function fillMinimal() {
  await type('Name', 'Compressor power high');
  await type('Parameter', 'power_kw', condition(1));
  await type('Threshold', '75', condition(1));
}

describe('RuleEditPage, a new rule', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(ruleAdmin);
    server.onGet('/api/v1/devices').reply(200, {
      items: [machine('compressor-1', 'Compressor 1'), machine('compressor-2', 'Compressor 2')],
      total: 2,
      limit: 500,
      offset: 0,
    });
  });
  afterEach(() => server.restore());

  it('creates a rule from every part of the form and opens it', async () => {
    server.onPost('/api/v1/rules').reply(201, { ...compressorRule, id: 12 });
    server.onGet('/api/v1/rules/12').reply(200, { ...compressorRule, id: 12 });
    const { router } = renderApp('/rules/new');
    await type('Name', 'Compressor power high');
    await type('Description (optional)', 'Sustained overload');
    await userEvent.selectOptions(screen.getByLabelText('Severity'), 'critical');
    await userEvent.selectOptions(screen.getByLabelText('Watch'), 'devices');
    const picker = screen.getByRole('group', { name: 'Machines to watch' });
    await userEvent.click(await within(picker).findByRole('checkbox', { name: /compressor-2/ }));
    await userEvent.click(within(picker).getByRole('checkbox', { name: /compressor-1/ }));

    await type('Parameter', 'power_kw', condition(1));
    await type('Threshold', '75', condition(1));
    await type('Clear threshold (optional)', '70', condition(1));
    await userEvent.click(screen.getByRole('button', { name: 'Add condition' }));
    await userEvent.selectOptions(within(condition(2)).getByLabelText('Kind'), 'window');
    await type('Parameter', 'power_kw', condition(2));
    await userEvent.selectOptions(within(condition(2)).getByLabelText('Function'), 'max');
    await type('Window (minutes)', '15', condition(2));
    await userEvent.selectOptions(within(condition(2)).getByLabelText('Comparison'), '>=');
    await type('Threshold', '90', condition(2));
    await userEvent.selectOptions(screen.getByLabelText('Fires when'), 'or');

    await type('Duration (seconds)', '300');
    await type('Cooldown (seconds)', '900');
    await type('Repeat (seconds)', '3600');
    await userEvent.click(screen.getByRole('checkbox', { name: /Only on certain days/ }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Fri' }));
    await type('To (HH:MM)', '24:00');
    await type('Email addresses', 'Maintenance@Example.com\nlead@example.com');
    await type('WhatsApp numbers', '+4915112345678');
    await userEvent.click(screen.getByRole('button', { name: 'Create rule' }));

    await waitFor(() => expect(router.state.location.pathname).toBe('/rules/12'));
    expect(posted(server, '/api/v1/rules')).toEqual([
      {
        name: 'Compressor power high',
        description: 'Sustained overload',
        severity: 'critical',
        enabled: true,
        scope: { kind: 'devices', device_ids: ['compressor-2', 'compressor-1'] },
        logic: 'or',
        conditions: [
          { kind: 'threshold', parameter: 'power_kw', op: '>', threshold: 75, clear_threshold: 70 },
          {
            kind: 'window',
            parameter: 'power_kw',
            function: 'max',
            minutes: 15,
            op: '>=',
            threshold: 90,
          },
        ],
        duration_seconds: 300,
        clear_after_seconds: 60,
        cooldown_seconds: 900,
        repeat_seconds: 3600,
        schedule: { days: ['mon', 'tue', 'wed', 'thu'], start: '06:00', end: '24:00' },
        channels: {
          email: ['maintenance@example.com', 'lead@example.com'],
          whatsapp: ['+4915112345678'],
          in_app: true,
        },
      },
    ]);
    expect(
      await screen.findByRole('heading', { name: 'Compressor power high' }),
    ).toBeInTheDocument();
  });

  it('checks fields while they are typed and sends nothing while one is wrong', async () => {
    renderApp('/rules/new');
    await fillMinimal();
    const clear = await type('Clear threshold (optional)', '80', condition(1));
    expect(clear).toHaveAccessibleDescription(/Must not be above the threshold \(75\)\./);
    const whatsapp = await type('WhatsApp numbers', '+49 151 1234');
    expect(whatsapp).toHaveAccessibleDescription(/is not in E\.164 form/);
    const email = await type('Email addresses', 'maintenance.example.com');
    expect(email).toHaveAccessibleDescription(
      /"maintenance\.example\.com" is not an email address\./,
    );
    const duration = await type('Duration (seconds)', '90000');
    expect(duration).toHaveAccessibleDescription(/Enter whole seconds from 0 to 86400\./);
    // Untouched fields stay quiet until the first attempt to save.
    await userEvent.selectOptions(screen.getByLabelText('Watch'), 'line');
    expect(screen.getByLabelText('Line')).not.toHaveAttribute('aria-invalid');

    await userEvent.click(screen.getByRole('button', { name: 'Create rule' }));
    expect(screen.getByLabelText('Line')).toHaveAccessibleDescription(/Enter a line\./);
    expect(screen.getByText('Correct the fields marked in red.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Test against the last 24 h' }));
    expect(server.history.post).toHaveLength(0);

    await type(clear, '70');
    expect(clear).not.toHaveAttribute('aria-invalid');
    await type(whatsapp, '+4915112345678');
    expect(whatsapp).not.toHaveAttribute('aria-invalid');
  });

  it("puts the server's 422 under the field it names, and a taken name under Name", async () => {
    server.onPost('/api/v1/rules').replyOnce(422, {
      error: {
        code: 'invalid_argument',
        message: 'conditions[0].threshold: must be a number',
        request_id: 'r1',
      },
    });
    server.onPost('/api/v1/rules').replyOnce(422, {
      error: {
        code: 'invalid_argument',
        message: 'channels.whatsapp[0]: must be an E.164 number',
        request_id: 'r2',
        field: 'channels.whatsapp[0]',
      },
    });
    server.onPost('/api/v1/rules').replyOnce(409, {
      error: { code: 'conflict', message: 'A rule with this name exists.', request_id: 'r3' },
    });
    renderApp('/rules/new');
    await fillMinimal();
    const create = screen.getByRole('button', { name: 'Create rule' });
    await userEvent.click(create);
    const threshold = within(condition(1)).getByLabelText('Threshold');
    await waitFor(() =>
      expect(threshold).toHaveAccessibleDescription('conditions[0].threshold: must be a number'),
    );
    expect(screen.queryByRole('alert')).toBeNull();

    await userEvent.click(create);
    await waitFor(() =>
      expect(screen.getByLabelText('WhatsApp numbers')).toHaveAccessibleDescription(
        /channels\.whatsapp\[0\]: must be an E\.164 number/,
      ),
    );
    expect(threshold).not.toHaveAttribute('aria-invalid');

    await userEvent.click(create);
    await waitFor(() =>
      expect(screen.getByLabelText('Name')).toHaveAccessibleDescription(
        'A rule with this name exists.',
      ),
    );
  });

  it('tests the draft against the last 24 h and lists when it would have fired', async () => {
    server.onPost('/api/v1/rules/test').reply(200, testResult);
    renderApp('/rules/new');
    await fillMinimal();
    await userEvent.click(screen.getByRole('button', { name: 'Test against the last 24 h' }));
    const result = await screen.findByTestId('test-result');
    expect(within(result).getByTestId('test-fired')).toHaveTextContent('2 times');
    expect(result).toHaveTextContent('17,280 readings');
    const episodes = within(result).getAllByTestId('episode');
    expect(episodes).toHaveLength(2);
    expect(episodes[0]).toHaveTextContent('compressor-1');
    expect(episodes[0]).toHaveTextContent('80.2');
    expect(episodes[1]).toHaveTextContent('still firing');
    expect(posted(server, '/api/v1/rules/test')).toEqual([
      expect.objectContaining({
        name: 'Compressor power high',
        conditions: [{ kind: 'threshold', parameter: 'power_kw', op: '>', threshold: 75 }],
      }),
    ]);
    expect(server.history.post.filter((r) => r.url === '/api/v1/rules')).toHaveLength(0);

    // A change makes the result stale: it goes away.
    await type('Threshold', '80', condition(1));
    expect(screen.queryByTestId('test-result')).toBeNull();
  });

  it('says so when the rule would not have fired, and shows a refused test under its field', async () => {
    server
      .onPost('/api/v1/rules/test')
      .replyOnce(200, { ...testResult, fired: 0, episodes: [] })
      .onPost('/api/v1/rules/test')
      .replyOnce(422, {
        error: {
          code: 'invalid_argument',
          message: 'conditions[0].parameter: must be a metric key',
          request_id: 'r',
        },
      });
    renderApp('/rules/new');
    await fillMinimal();
    const testButton = screen.getByRole('button', { name: 'Test against the last 24 h' });
    await userEvent.click(testButton);
    expect(await screen.findByTestId('test-result')).toHaveTextContent(
      'Would not have fired in the last 24 hours',
    );
    await userEvent.click(testButton);
    await waitFor(() =>
      expect(within(condition(1)).getByLabelText('Parameter')).toHaveAccessibleDescription(
        'conditions[0].parameter: must be a metric key',
      ),
    );
    expect(screen.queryByTestId('test-result')).toBeNull();
  });
});

describe('RuleEditPage, a saved rule', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    server.onGet('/api/v1/rules/7').reply(200, compressorRule);
  });
  afterEach(() => server.restore());

  it('shows every field of the rule', async () => {
    signInAs(ruleAdmin);
    renderApp('/rules/7');
    expect(
      await screen.findByRole('heading', { name: 'Compressor power high' }),
    ).toBeInTheDocument();
    expect(screen.getByLabelText('Name')).toHaveValue('Compressor power high');
    expect(screen.getByLabelText('Severity')).toHaveValue('critical');
    expect(screen.getByLabelText('Watch')).toHaveValue('type');
    expect(screen.getByLabelText('Machine type')).toHaveValue('compressor');
    expect(within(condition(1)).getByLabelText('Threshold')).toHaveValue(75);
    expect(within(condition(1)).getByLabelText('Clear threshold (optional)')).toHaveValue(70);
    expect(screen.getByLabelText('Duration (seconds)')).toHaveAccessibleDescription(/\(5 min\)/);
    expect(screen.getByRole('checkbox', { name: 'Sat' })).not.toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Fri' })).toBeChecked();
    expect(screen.getByLabelText('Time zone (optional)')).toHaveValue('Europe/Berlin');
    expect(screen.getByLabelText('WhatsApp numbers')).toHaveValue('+4915112345678');
    expect(screen.getByRole('link', { name: 'Alerts of this rule' })).toHaveAttribute(
      'href',
      '/alerts?rule_id=7',
    );
  });

  it('tests the saved rule while unchanged and the draft once edited', async () => {
    signInAs(ruleAdmin);
    server.onPost('/api/v1/rules/7/test').reply(200, testResult);
    server.onPost('/api/v1/rules/test').reply(200, { ...testResult, fired: 5 });
    renderApp('/rules/7');
    const testButton = await screen.findByRole('button', { name: 'Test against the last 24 h' });
    await userEvent.click(testButton);
    expect(await screen.findByTestId('test-fired')).toHaveTextContent('2 times');
    expect(server.history.post.map((r) => r.url)).toEqual(['/api/v1/rules/7/test']);

    await type('Threshold', '80', condition(1));
    await userEvent.click(testButton);
    expect(await screen.findByTestId('test-fired')).toHaveTextContent('5 times');
    expect(posted(server, '/api/v1/rules/test')[0]).toMatchObject({
      conditions: [{ kind: 'threshold', threshold: 80, clear_threshold: 70 }],
    });
  });

  it('saves changes with PATCH and stays on the form', async () => {
    signInAs(ruleAdmin);
    server
      .onPatch('/api/v1/rules/7')
      .reply(200, { ...compressorRule, severity: 'major', version: 4 });
    renderApp('/rules/7');
    await userEvent.selectOptions(await screen.findByLabelText('Severity'), 'major');
    await userEvent.click(screen.getByRole('button', { name: 'Save rule' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Rule saved.');
    const patch = JSON.parse(server.history.patch[0]!.data as string) as Record<string, unknown>;
    expect(patch.severity).toBe('major');
    expect(patch.schedule).toEqual(compressorRule.schedule);
    expect(screen.getByText(/Version 4/)).toBeInTheDocument();
  });

  it('deletes the rule only after confirmation', async () => {
    signInAs(ruleAdmin);
    server.onDelete('/api/v1/rules/7').reply(204);
    server.onGet('/api/v1/rules').reply(200, page([]));
    const { router } = renderApp('/rules/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete rule' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete rule' });
    expect(dialog).toHaveTextContent('its open alerts are resolved');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(server.history.delete).toHaveLength(0);

    await userEvent.click(screen.getByRole('button', { name: 'Delete rule' }));
    await userEvent.click(
      within(screen.getByRole('dialog', { name: 'Delete rule' })).getByRole('button', {
        name: 'Delete rule',
      }),
    );
    await waitFor(() => expect(router.state.location.pathname).toBe('/rules'));
    expect(server.history.delete.map((r) => r.url)).toEqual(['/api/v1/rules/7']);
  });

  it('shows the rule read-only without the rules permission', async () => {
    signInAs(viewerAdmin);
    renderApp('/rules/7');
    const name = await screen.findByLabelText('Name');
    expect(name).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save rule' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Test against/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete rule' })).toBeNull();
  });

  it('says when the rule does not exist', async () => {
    signInAs(ruleAdmin);
    server.onGet('/api/v1/rules/99').reply(404, {
      error: { code: 'not_found', message: 'rule 99 not found', request_id: 'r' },
    });
    renderApp('/rules/99');
    expect(await screen.findByText('There is no rule 99 in this factory.')).toBeInTheDocument();
  });
});
