// @ts-check
// Browser smoke tests of the web app as served by a running FactoryOps server.
//
//   FACTORYOPS_E2E_URL=http://127.0.0.1:8000 npm run e2e
//
// Settings are described in browser.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  baseOrigin,
  baseUrl,
  inContextPage,
  inPage,
  newContext,
  registerSecret,
  runId,
  signIn,
  superAdmin,
  TEST_TIMEOUT_MS,
  useBrowser,
  waitForText,
} from './browser.mjs';

useBrowser();

const unavailableSections = ['Analytics', 'Reports'];

/**
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string[]>} the labels of the menu's links, in order
 */
async function menuLinks(page) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.waitFor();
  return (await nav.getByRole('link').allTextContents()).map((t) => t.trim());
}

test('dashboard shows the system status reported by the server', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('dashboard', async (page) => {
    await signIn(page, superAdmin());
    const status = page.getByRole('region', { name: 'System status' });
    await status.waitFor();
    await waitForText(status.getByTestId('overall-status'), 'healthy');
    const dependencies = status.locator('[data-testid^="dependency-"]');
    assert.ok((await dependencies.count()) > 0, 'no dependency listed');

    const version = page.getByTestId('server-version');
    await version.waitFor();
    assert.match((await version.textContent()) ?? '', /^\d+\.\d+\.\d+/);

    const machines = page.getByRole('region', { name: 'Machines' });
    const count = machines.getByTestId('machine-count');
    const failed = machines.getByRole('alert');
    await Promise.race([count.waitFor(), failed.waitFor()]);
    if (!(await count.isVisible())) {
      assert.fail(`the machine count failed: ${(await failed.textContent())?.trim()}`);
    }
    assert.match((await count.textContent()) ?? '', /^\d+$/);
  }),
);

test(
  'a super admin sees every section; those without a backend are disabled, not links',
  { timeout: TEST_TIMEOUT_MS },
  () =>
    inPage('navigation', async (page) => {
      await signIn(page, superAdmin());
      assert.deepEqual(await menuLinks(page), [
        'Dashboard',
        'Machines',
        'Alerts',
        'Rules',
        'Users',
        'Audit log',
        'Dead letters',
        'Storage',
      ]);
      const nav = page.getByRole('navigation', { name: 'Main' });

      for (const label of unavailableSections) {
        const item = nav.getByRole('listitem').filter({ hasText: label });
        assert.equal(await item.count(), 1, `${label} is missing from the menu`);
        const facts = await item.evaluate((li) => ({
          links: li.querySelectorAll('a, [href]').length,
          disabled: li.firstElementChild?.getAttribute('aria-disabled'),
          text: li.textContent,
        }));
        assert.equal(facts.links, 0, `${label} is a link`);
        assert.equal(facts.disabled, 'true', `${label} is not aria-disabled`);
        assert.match(facts.text ?? '', /not yet available/);
      }

      await nav.getByRole('listitem').filter({ hasText: 'Analytics' }).click();
      assert.equal(new URL(page.url()).pathname, '/');

      await nav.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await page.getByRole('cell', { name: 'auth.login', exact: true }).first().waitFor();
    }),
);

test('a visitor without a session is sent to sign in and back', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('sign-in-redirect', async (page) => {
    await page.goto(`${baseUrl}/machines`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname, '/login');
    assert.equal(url.searchParams.get('next'), '/machines');

    await signIn(page, superAdmin(), '/machines');
    await page.getByRole('heading', { name: 'Machines' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/machines');
  }),
);

test('an unknown address shows the not-found page', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('not-found', async (page) => {
    await signIn(page, superAdmin());
    const response = await page.goto(`${baseUrl}/some/unknown/route`);
    assert.ok(response, 'no response');
    assert.match(response.headers()['content-type'] ?? '', /text\/html/);

    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.getByText('/some/unknown/route', { exact: true }).waitFor();

    const back = page.getByRole('link', { name: 'Back to the dashboard' });
    assert.equal(await back.getAttribute('href'), '/');
  }),
);

test('the sign-in form explains each empty field', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('login', async (page) => {
    /** @type {string[]} */
    const signInCalls = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/v1/auth/login') signInCalls.push(request.url());
    });
    await page.goto(`${baseUrl}/login`);
    for (const label of ['Factory ID', 'Email', 'Password']) {
      await page.getByLabel(label, { exact: true }).waitFor();
    }
    await page.getByRole('button', { name: 'Sign in' }).click();

    for (const message of [
      'Enter your factory ID.',
      'Enter your email address.',
      'Enter your password.',
    ]) {
      await page.getByText(message, { exact: true }).waitFor();
    }
    assert.equal(
      await page.getByLabel('Factory ID', { exact: true }).getAttribute('aria-invalid'),
      'true',
    );
    assert.deepEqual(signInCalls, [], 'an invalid form was sent to the server');
  }),
);

test('the API reference renders the published OpenAPI document', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('api-docs', async (page) => {
    const specRequest = page.waitForResponse(
      (response) => new URL(response.url()).pathname === '/api/v1/openapi.json',
    );
    await page.goto(`${baseUrl}/api/docs`);
    const spec = await specRequest;
    assert.equal(spec.status(), 200);
    await page.locator('.opblock-summary-path[data-path="/health"]').waitFor({ timeout: 20_000 });
  }),
);

test(
  'an invited admin without the machines permission has no Users page',
  { timeout: 2 * TEST_TIMEOUT_MS },
  async () => {
    const boss = superAdmin();
    const invitee = {
      factory: boss.factory,
      email: `admin-${runId}@e2e.example`,
      password: `Invitee-${runId}-${Math.random().toString(36).slice(2)}`,
    };
    await registerSecret(invitee.password);

    // The super admin invites an admin who may manage rules but not machines.
    /** @type {string} */
    let inviteUrl = '';
    await inPage('invite', async (page) => {
      await signIn(page, boss, '/users');
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      await page.getByRole('button', { name: 'Invite' }).click();
      const dialog = page.getByRole('dialog', { name: 'Invite a user' });
      await dialog.getByLabel('Email').fill(invitee.email);
      await dialog.getByLabel('Role').selectOption('admin');
      await dialog.getByLabel('Rules').check();
      assert.equal(await dialog.getByLabel('Machines').isChecked(), false);
      await dialog.getByRole('button', { name: 'Create invitation' }).click();

      const created = page.getByRole('dialog', { name: 'Invitation created' });
      const link = created.getByTestId('invite-url');
      const refused = dialog.getByRole('alert');
      await Promise.race([link.waitFor(), refused.waitFor()]);
      if (await refused.isVisible()) {
        assert.fail(`the invitation was refused: ${(await refused.textContent())?.trim()}`);
      }
      inviteUrl = ((await link.textContent()) ?? '').trim();
      assert.match(inviteUrl, /^http.*\/accept-invite\?token=.+/, 'the link is not absolute');
      assert.equal(new URL(inviteUrl).origin, baseOrigin);
      await registerSecret(new URL(inviteUrl).searchParams.get('token') ?? '');
      await created.getByRole('button', { name: 'Done' }).click();
      // An invitation is not an account yet: the list gains the user only once it is accepted.
      await page.getByRole('dialog').waitFor({ state: 'detached' });
    });

    // The invitee opens the link in a browser of their own.
    const theirs = await newContext();
    try {
      await inContextPage(theirs, 'accept-invite', async (page) => {
        await page.goto(inviteUrl);
        await page.getByRole('heading', { name: 'Accept your invitation' }).waitFor();
        await page.getByLabel('Your name').fill('Invited Admin');
        await page.getByLabel('Password', { exact: true }).fill(invitee.password);
        await page.getByLabel('Repeat password').fill(invitee.password);
        await page.getByRole('button', { name: 'Create account' }).click();
        const dashboard = page.getByRole('heading', { name: 'Dashboard' });
        const refused = page
          .getByRole('main')
          .filter({ has: page.getByRole('heading', { name: 'Accept your invitation' }) })
          .getByRole('alert');
        await Promise.race([dashboard.waitFor(), refused.waitFor()]);
        if (!(await dashboard.isVisible()) && (await refused.isVisible())) {
          assert.fail(`accepting the invitation failed: ${(await refused.textContent())?.trim()}`);
        }
        assert.equal(
          (await page.getByTestId('session-email').textContent())?.trim(),
          invitee.email,
        );
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      });

      // Signing in again with the chosen password, the admin finds no Users or Storage section.
      await inContextPage(theirs, 'admin-navigation', async (page) => {
        await signIn(page, invitee);
        assert.deepEqual(await menuLinks(page), ['Dashboard', 'Machines', 'Alerts', 'Rules']);
        const nav = page.getByRole('navigation', { name: 'Main' });
        assert.equal(await nav.getByText('Users', { exact: true }).count(), 0);
        assert.equal(await nav.getByText('Audit log', { exact: true }).count(), 0);
        assert.equal(await nav.getByText('Storage', { exact: true }).count(), 0);
        await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

        await page.goto(`${baseUrl}/users`);
        await page.getByRole('heading', { name: "You don't have access to this page" }).waitFor();
        await page.goto(`${baseUrl}/storage`);
        await page.getByRole('heading', { name: "You don't have access to this page" }).waitFor();

        // Machines are visible to every admin, but only as a list without write actions.
        await page.goto(`${baseUrl}/machines`);
        await page.getByRole('heading', { name: 'Machines' }).waitFor();
        await page.getByRole('region', { name: 'Registry' }).waitFor();
        assert.equal(await page.getByRole('button', { name: 'Register machine' }).count(), 0);
      });
    } finally {
      await theirs.close();
    }

    // The super admin sees the new account in the list, active and with Rules only.
    await inPage('users-after-accept', async (page) => {
      await signIn(page, boss, '/users');
      const row = page.getByTestId(`user-row-${invitee.email}`);
      await row.waitFor();
      await row.getByText('Invited Admin').waitFor();
      assert.deepEqual(
        (
          await row
            .getByRole('list', { name: 'Permissions' })
            .getByRole('listitem')
            .allTextContents()
        ).map((t) => t.trim()),
        ['Rules'],
      );
    });
  },
);

test('a new machine shows its API key exactly once', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('machine-key', async (page) => {
    const deviceId = `press-${runId}`;
    await signIn(page, superAdmin(), '/machines');
    await page.getByRole('heading', { name: 'Machines' }).waitFor();
    await page.getByRole('button', { name: 'Register machine' }).click();
    const dialog = page.getByRole('dialog', { name: 'Register machine' });
    await dialog.getByLabel('Device ID').fill(deviceId);
    await dialog.getByLabel('Name').fill('Press E2E');
    await dialog.getByLabel('Type').fill('press');
    await dialog.getByLabel('Rated power (kW)').fill('55');
    await dialog.getByLabel('Metadata (JSON)').fill('{"vendor": "E2E"}');
    await dialog.getByRole('button', { name: 'Register' }).click();

    const keyText = page.getByTestId('api-key');
    const refused = dialog.getByRole('alert');
    await Promise.race([keyText.waitFor(), refused.waitFor()]);
    if (await refused.isVisible()) {
      assert.fail(`registering the machine failed: ${(await refused.textContent())?.trim()}`);
    }
    const key = ((await keyText.textContent()) ?? '').trim();
    await registerSecret(key);
    assert.match(key, /^fo_[A-Za-z0-9_-]{43}$/, 'the key is not fo_ plus 43 base64url characters');
    await page.getByTestId('api-key-panel').getByText('cannot be shown again').waitFor();
    await page.getByRole('button', { name: 'I have stored the key' }).click();

    const row = page.getByTestId(`machine-row-${deviceId}`);
    await row.waitFor();
    assert.ok(!(await page.content()).includes(key), 'the key is still on the page');

    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(key), 'the key came back after a reload');

    await row.getByRole('link', { name: deviceId }).click();
    const prefix = page.getByTestId('api-key-prefix');
    await prefix.waitFor();
    assert.equal(((await prefix.textContent()) ?? '').trim(), `${key.slice(0, 8)}…`);
    assert.ok(!(await page.content()).includes(key), 'the detail page shows the whole key');
    await page
      .getByText(
        'No parameters discovered yet — they appear when the machine first sends telemetry.',
      )
      .waitFor();
  }),
);
