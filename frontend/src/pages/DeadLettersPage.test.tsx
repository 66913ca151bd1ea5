import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../api/jobs';
import {
  machineAdmin,
  mockDashboardApi,
  mockServer,
  renderApp,
  signInAs,
  superAdmin,
  viewerAdmin,
} from '../test/render';

const email: DeadLetter = {
  id: '1767323045000-0',
  queue: 'notifications',
  task: 'notify.email',
  request_id: 'req-mail-1',
  attempts: 4,
  last_error: '550 5.1.1 mailbox unavailable',
  payload: { to: 'ops@plant.example', alert_id: 12 },
  enqueued_at: '2026-01-02T03:00:00Z',
  died_at: '2026-01-02T03:04:05Z',
};

const evaluation: DeadLetter = {
  id: '1767322000000-3',
  queue: 'rule-engine',
  task: 'rules.evaluate',
  request_id: 'req-rule-9',
  attempts: 1,
  last_error: 'rule 5 no longer exists',
  payload: null,
  enqueued_at: '2026-01-02T02:46:00Z',
  died_at: '2026-01-02T02:46:40Z',
};

type Params = Record<string, unknown>;

describe('DeadLettersPage', () => {
  let server: MockAdapter;
  let requests: Params[];
  let items: DeadLetter[];
  // Answers given instead of the list, first to last.
  let nextAnswers: [number, unknown][];
  beforeEach(() => {
    server = mockServer();
    signInAs(superAdmin);
    requests = [];
    items = [email, evaluation];
    nextAnswers = [];
    // Answers like the server: the stored dead letters of the asked queue, newest first.
    server.onGet('/api/v1/jobs/dead-letters').reply((config) => {
      const params = { ...(config.params as Params) };
      requests.push(params);
      const failure = nextAnswers.shift();
      if (failure) return failure;
      return [200, { items: items.filter((i) => !params.queue || i.queue === params.queue) }];
    });
  });
  afterEach(() => server.restore());

  const last = () => requests[requests.length - 1]!;
  const row = (id: string) => screen.findByTestId(`dead-letter-${id}`);

  it('lists every queue by default with task, queue, time of death, attempts, error and request', async () => {
    renderApp('/jobs/dead-letters');
    expect(await screen.findByRole('heading', { name: 'Dead letters' })).toBeInTheDocument();
    expect(screen.getByText(/failed 3 retries or failed permanently/)).toBeInTheDocument();
    const first = await row(email.id);
    expect(within(first).getByText('notify.email')).toBeInTheDocument();
    expect(within(first).getByText('Notifications')).toBeInTheDocument();
    expect(within(first).getByText(new Date(email.died_at).toLocaleString())).toHaveAttribute(
      'datetime',
      email.died_at,
    );
    expect(within(first).getByText('4')).toBeInTheDocument();
    expect(within(first).getByText('550 5.1.1 mailbox unavailable')).toBeInTheDocument();
    expect(within(first).getByText('req-mail-1')).toBeInTheDocument();
    expect(within(await row(evaluation.id)).getByText('Rule engine')).toBeInTheDocument();
    // Newest first, as the server sent them.
    const rows = screen.getAllByTestId(/^dead-letter-/);
    expect(rows.map((r) => r.dataset.testid)).toEqual([
      `dead-letter-${email.id}`,
      `dead-letter-${evaluation.id}`,
    ]);
    expect(requests).toEqual([{ limit: 50 }]);
    expect(screen.getByLabelText('Queue')).toHaveValue('');
  });

  it('shows the pretty-printed payload on demand, or says there is none', async () => {
    renderApp('/jobs/dead-letters');
    const first = await row(email.id);
    expect(screen.queryByLabelText('Payload of notify.email')).toBeNull();
    const toggle = within(first).getByRole('button', { name: 'Payload' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByLabelText('Payload of notify.email').textContent).toBe(
      JSON.stringify(email.payload, null, 2),
    );
    expect(screen.getByText(email.id)).toBeInTheDocument();

    await userEvent.click(
      within(await row(evaluation.id)).getByRole('button', { name: 'Payload' }),
    );
    expect(screen.getByLabelText('Payload of rules.evaluate')).toHaveTextContent(
      'No payload, or the server could not read it.',
    );

    await userEvent.click(toggle);
    expect(screen.queryByLabelText('Payload of notify.email')).toBeNull();
  });

  it('sends the chosen queue and keeps it in the URL', async () => {
    const { router } = renderApp('/jobs/dead-letters');
    await row(email.id);

    await userEvent.selectOptions(screen.getByLabelText('Queue'), 'Notifications');
    await waitFor(() => expect(last()).toEqual({ queue: 'notifications', limit: 50 }));
    expect(new URLSearchParams(router.state.location.search).get('queue')).toBe('notifications');
    await waitFor(() => expect(screen.queryByTestId(`dead-letter-${evaluation.id}`)).toBeNull());
    expect(screen.getByTestId(`dead-letter-${email.id}`)).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText('Queue'), 'All queues');
    await waitFor(() => expect(last()).toEqual({ limit: 50 }));
    expect(new URLSearchParams(router.state.location.search).has('queue')).toBe(false);
  });

  it('applies a queue taken from the URL, and lists every queue for an unknown one', async () => {
    const { unmount } = renderApp('/jobs/dead-letters?queue=rule-engine');
    await row(evaluation.id);
    expect(requests[0]).toEqual({ queue: 'rule-engine', limit: 50 });
    expect(screen.getByLabelText('Queue')).toHaveValue('rule-engine');
    expect(screen.queryByTestId(`dead-letter-${email.id}`)).toBeNull();
    unmount();

    requests = [];
    renderApp('/jobs/dead-letters?queue=bogus');
    await row(email.id);
    expect(requests[0]).toEqual({ limit: 50 });
    expect(screen.getByLabelText('Queue')).toHaveValue('');
  });

  it('requeues a dead letter: the button waits for the server, then the row goes', async () => {
    let answer: (status: number) => void = () => {};
    server.onPost(`/api/v1/jobs/dead-letters/${email.id}/requeue`).reply(
      () =>
        new Promise((resolve) => {
          answer = (status) => {
            items = items.filter((i) => i.id !== email.id);
            resolve([status]);
          };
        }),
    );
    renderApp('/jobs/dead-letters');
    const first = await row(email.id);
    await userEvent.click(within(first).getByRole('button', { name: /^Requeue/ }));

    const pending = within(first).getByRole('button', { name: /^Requeue/ });
    expect(pending).toBeDisabled();
    expect(pending).toHaveTextContent('Requeuing…');
    expect(within(first).getByRole('button', { name: /^Delete/ })).toBeDisabled();

    answer(204);
    await waitFor(() => expect(screen.queryByTestId(`dead-letter-${email.id}`)).toBeNull());
    expect(screen.getByText(/notify\.email is back on its queue/)).toBeInTheDocument();
    expect(screen.getByTestId(`dead-letter-${evaluation.id}`)).toBeInTheDocument();
    expect(server.history.post.map((r) => r.url)).toEqual([
      `/api/v1/jobs/dead-letters/${email.id}/requeue`,
    ]);
    // The list is asked for again, so it shows what the server now holds.
    await waitFor(() => expect(requests.length).toBe(2));
  });

  it("shows the server's refusal of a requeue on the row and keeps the row", async () => {
    server.onPost(`/api/v1/jobs/dead-letters/${email.id}/requeue`).reply(404, {
      error: { code: 'not_found', message: 'No such dead letter.', request_id: 'r404' },
    });
    renderApp('/jobs/dead-letters');
    const first = await row(email.id);
    await userEvent.click(within(first).getByRole('button', { name: /^Requeue/ }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('No such dead letter.');
    expect(alert).toHaveTextContent('Request ID: r404');
    expect(screen.getByTestId(`dead-letter-${email.id}`)).toBeInTheDocument();
    expect(within(first).getByRole('button', { name: /^Requeue/ })).toBeEnabled();
  });

  it('deletes a dead letter only after confirmation', async () => {
    server.onDelete(`/api/v1/jobs/dead-letters/${evaluation.id}`).reply(() => {
      items = items.filter((i) => i.id !== evaluation.id);
      return [204];
    });
    renderApp('/jobs/dead-letters');
    const second = await row(evaluation.id);

    await userEvent.click(within(second).getByRole('button', { name: /^Delete/ }));
    let dialog = screen.getByRole('dialog', { name: 'Delete dead letter' });
    expect(dialog).toHaveTextContent('rules.evaluate');
    expect(dialog).toHaveTextContent('never run');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(server.history.delete).toHaveLength(0);

    await userEvent.click(within(second).getByRole('button', { name: /^Delete/ }));
    dialog = screen.getByRole('dialog', { name: 'Delete dead letter' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.queryByTestId(`dead-letter-${evaluation.id}`)).toBeNull();
    expect(screen.getByTestId(`dead-letter-${email.id}`)).toBeInTheDocument();
    expect(screen.getByText('rules.evaluate was deleted.')).toBeInTheDocument();
    expect(server.history.delete.map((r) => r.url)).toEqual([
      `/api/v1/jobs/dead-letters/${evaluation.id}`,
    ]);
  });

  it('shows a refused delete in the dialog, with the button pending while it runs', async () => {
    let answer: () => void = () => {};
    server.onDelete(`/api/v1/jobs/dead-letters/${email.id}`).reply(
      () =>
        new Promise((resolve) => {
          answer = () =>
            resolve([
              500,
              { error: { code: 'internal', message: 'Redis is unreachable.', request_id: 'r5' } },
            ]);
        }),
    );
    renderApp('/jobs/dead-letters');
    await userEvent.click(within(await row(email.id)).getByRole('button', { name: /^Delete/ }));
    const dialog = screen.getByRole('dialog', { name: 'Delete dead letter' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(within(dialog).getByRole('button', { name: 'Deleting…' })).toBeDisabled();

    answer();
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Redis is unreachable.');
    expect(within(dialog).getByRole('button', { name: 'Delete' })).toBeEnabled();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.getByTestId(`dead-letter-${email.id}`)).toBeInTheDocument();
  });

  it('says so when there are no dead letters', async () => {
    items = [];
    renderApp('/jobs/dead-letters');
    expect(
      await screen.findByText('No dead letters: every job finished or is still being retried.'),
    ).toBeInTheDocument();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it("shows the server's error with a Retry that loads the list", async () => {
    nextAnswers.push([
      500,
      { error: { code: 'internal', message: 'The job queue is unavailable.', request_id: 'r1' } },
    ]);
    renderApp('/jobs/dead-letters');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The dead letters are unavailable');
    expect(alert).toHaveTextContent('The job queue is unavailable.');
    expect(alert).toHaveTextContent('Request ID: r1');
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await row(email.id)).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('reports an answer it does not understand instead of showing a broken table', async () => {
    nextAnswers.push([200, { items: [{ ...email, attempts: '4' }] }]);
    renderApp('/jobs/dead-letters');
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The server sent an unexpected dead letter list response.',
    );
  });
});

describe('DeadLettersPage for an admin', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    mockDashboardApi(server);
  });
  afterEach(() => server.restore());

  it('offers the Dead letters entry to a super admin, next to Audit log', async () => {
    signInAs(superAdmin);
    server.onGet('/api/v1/jobs/dead-letters').reply(200, { items: [] });
    const { router } = renderApp('/');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const names = within(nav)
      .getAllByRole('link')
      .map((link) => link.textContent);
    expect(names.indexOf('Dead letters')).toBe(names.indexOf('Audit log') + 1);
    await userEvent.click(within(nav).getByRole('link', { name: 'Dead letters' }));
    expect(router.state.location.pathname).toBe('/jobs/dead-letters');
    expect(await screen.findByRole('heading', { name: 'Dead letters' })).toBeInTheDocument();
  });

  it.each([
    ['without permissions', viewerAdmin],
    ['with the machines permission', machineAdmin],
  ])('offers no Dead letters entry to an admin %s, and refuses the address', async (_n, user) => {
    signInAs(user);
    const { unmount } = renderApp('/');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Machines' })).toBeInTheDocument();
    expect(within(nav).queryByText('Dead letters')).toBeNull();
    unmount();

    renderApp('/jobs/dead-letters');
    expect(
      screen.getByRole('heading', { name: "You don't have access to this page" }),
    ).toBeInTheDocument();
    await waitFor(() => expect(server.history.get.length).toBeGreaterThan(0));
    expect(server.history.get.map((r) => r.url)).not.toContain('/api/v1/jobs/dead-letters');
  });
});
