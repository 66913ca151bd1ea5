// @ts-check
// Browser smoke tests of the web app as served by a running FactoryOps server.
//
//   FACTORYOPS_E2E_URL=http://127.0.0.1:8000 npm run e2e
//
// FACTORYOPS_E2E_URL          server to test (required)
// FACTORYOPS_E2E_SCREENSHOTS  where each test saves a full-page PNG (default ../build/e2e)
// FACTORYOPS_E2E_CHROMIUM     browser binary (default /usr/bin/chromium, Debian's package)
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const frontendDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rawBaseUrl = process.env.FACTORYOPS_E2E_URL;
if (!rawBaseUrl) {
  throw new Error('Set FACTORYOPS_E2E_URL to the server under test, e.g. http://127.0.0.1:8000');
}
const baseUrl = rawBaseUrl.replace(/\/+$/, '');
const baseOrigin = new URL(baseUrl).origin;
const screenshotDir = resolve(
  frontendDir,
  process.env.FACTORYOPS_E2E_SCREENSHOTS || join('..', 'build', 'e2e'),
);
const chromiumPath = process.env.FACTORYOPS_E2E_CHROMIUM || '/usr/bin/chromium';

const unavailableSections = ['Machines', 'Rules', 'Analytics', 'Reports', 'Users'];
const TEST_TIMEOUT_MS = 60_000;

/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  await mkdir(screenshotDir, { recursive: true });
  // Playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

/**
 * Opens a fresh browser context, runs `body`, and always saves a full-page screenshot. The
 * page must not throw, must not load anything from another origin (the app runs offline) and
 * every script, style sheet and image it asks for must exist.
 *
 * @param {string} name  screenshot file name, without extension
 * @param {(page: import('playwright-core').Page) => Promise<void>} body
 */
async function inPage(name, body) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (error) => problems.push(`uncaught error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.origin !== baseOrigin) {
      problems.push(`request to another origin: ${request.url()}`);
    }
  });
  page.on('response', (response) => {
    const type = response.request().resourceType();
    if (['script', 'stylesheet', 'image', 'font'].includes(type) && response.status() >= 400) {
      problems.push(`${type} ${response.url()} answered ${response.status()}`);
    }
  });
  try {
    await body(page);
  } finally {
    await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
    await context.close();
  }
  assert.deepEqual(problems, [], 'the page behaved badly');
}

/**
 * Waits until the element's text, trimmed, equals `expected`.
 *
 * @param {import('playwright-core').Locator} locator
 * @param {string} expected
 */
async function waitForText(locator, expected) {
  await locator.waitFor();
  const deadline = Date.now() + 15_000;
  let actual = '';
  while (Date.now() < deadline) {
    actual = ((await locator.textContent()) ?? '').trim();
    if (actual === expected) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(actual, expected);
}

test('dashboard shows the system status reported by the server', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('dashboard', async (page) => {
    await page.goto(`${baseUrl}/`);
    const status = page.getByRole('region', { name: 'System status' });
    await status.waitFor();
    await waitForText(status.getByTestId('overall-status'), 'healthy');
    const dependencies = status.locator('[data-testid^="dependency-"]');
    assert.ok((await dependencies.count()) > 0, 'no dependency listed');

    const version = page.getByTestId('server-version');
    await version.waitFor();
    assert.match((await version.textContent()) ?? '', /^\d+\.\d+\.\d+/);
  }),
);

test(
  'sections without a backend are shown disabled and are not links',
  { timeout: TEST_TIMEOUT_MS },
  () =>
    inPage('navigation', async (page) => {
      await page.goto(`${baseUrl}/`);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.waitFor();

      const links = nav.getByRole('link');
      assert.equal(await links.count(), 1);
      assert.equal((await links.first().textContent())?.trim(), 'Dashboard');
      assert.equal(await links.first().getAttribute('href'), '/');

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

      await nav.getByRole('listitem').filter({ hasText: 'Machines' }).click();
      assert.equal(new URL(page.url()).pathname, '/');
    }),
);

test('an unknown address shows the not-found page', { timeout: TEST_TIMEOUT_MS }, () =>
  inPage('not-found', async (page) => {
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
