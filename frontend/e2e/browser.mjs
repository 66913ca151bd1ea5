// @ts-check
// What every browser test file shares: the server under test, the browser, a page wrapper
// that checks the page behaved, and signing in. Settings (environment):
//
// FACTORYOPS_E2E_URL          server to test (required)
// FACTORYOPS_E2E_SCREENSHOTS  where each test saves a full-page PNG (default ../build/e2e)
// FACTORYOPS_E2E_CHROMIUM     browser binary (default /usr/bin/chromium, Debian's package)
// FACTORYOPS_E2E_FACTORY, FACTORYOPS_E2E_EMAIL, FACTORYOPS_E2E_PASSWORD
//                             a super admin of a factory on that server (scripts/e2e.sh makes one)
// FACTORYOPS_E2E_SECRETS_FILE optional: passwords and keys the tests create are appended here so
//                             the log scan can check none of them was logged
import assert from 'node:assert/strict';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const frontendDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rawBaseUrl = process.env.FACTORYOPS_E2E_URL;
if (!rawBaseUrl) {
  throw new Error('Set FACTORYOPS_E2E_URL to the server under test, e.g. http://127.0.0.1:8000');
}
export const baseUrl = rawBaseUrl.replace(/\/+$/, '');
export const baseOrigin = new URL(baseUrl).origin;
const screenshotDir = resolve(
  frontendDir,
  process.env.FACTORYOPS_E2E_SCREENSHOTS || join('..', 'build', 'e2e'),
);
const chromiumPath = process.env.FACTORYOPS_E2E_CHROMIUM || '/usr/bin/chromium';

export const TEST_TIMEOUT_MS = 60_000;

/** The super admin the run was given; a test that needs it fails (never skips) without it. */
export function superAdmin() {
  const factory = process.env.FACTORYOPS_E2E_FACTORY;
  const email = process.env.FACTORYOPS_E2E_EMAIL;
  const password = process.env.FACTORYOPS_E2E_PASSWORD;
  assert.ok(
    factory && email && password,
    'Set FACTORYOPS_E2E_FACTORY, FACTORYOPS_E2E_EMAIL and FACTORYOPS_E2E_PASSWORD to a super ' +
      'admin of the server under test (scripts/e2e.sh creates one with factoryops admin).',
  );
  return { factory, email, password };
}

/**
 * Records a secret the test created, so scripts/check_log_secrets.sh looks for it too.
 *
 * @param {string} value
 */
export async function registerSecret(value) {
  const file = process.env.FACTORYOPS_E2E_SECRETS_FILE;
  if (file) await appendFile(file, `${value}\n`);
}

/** A unique suffix so reruns against one server do not collide. */
export const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;

/** @type {import('playwright-core').Browser} */
let browser;

/**
 * Launches the browser before the file's tests and closes it after them; call once at the top
 * of a test file.
 */
export function useBrowser() {
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
}

/** A fresh browser context (its own cookies and storage: another person at another desk). */
export function newContext() {
  return browser.newContext({ viewport: { width: 1280, height: 800 } });
}

/**
 * Opens a fresh browser context, runs `body`, and always saves a full-page screenshot. The
 * page must not throw, must not load anything from another origin (the app runs offline) and
 * every script, style sheet and image it asks for must exist.
 *
 * @param {string} name  screenshot file name, without extension
 * @param {(page: import('playwright-core').Page) => Promise<void>} body
 */
export async function inPage(name, body) {
  const context = await newContext();
  try {
    await inContextPage(context, name, body);
  } finally {
    await context.close();
  }
}

/**
 * Like inPage, but in a context the caller owns, so one test can drive two browsers (two
 * people) side by side.
 *
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} name
 * @param {(page: import('playwright-core').Page) => Promise<void>} body
 */
export async function inContextPage(context, name, body) {
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
    await page.close();
  }
  assert.deepEqual(problems, [], 'the page behaved badly');
}

/**
 * Waits until the element's text, trimmed, equals `expected`.
 *
 * @param {import('playwright-core').Locator} locator
 * @param {string} expected
 */
export async function waitForText(locator, expected) {
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

/**
 * Signs in through the form and waits for the page it leads to. A refusal fails with the
 * message the app showed, so a missing or broken backend route is obvious from the report.
 *
 * @param {import('playwright-core').Page} page
 * @param {{factory: string, email: string, password: string}} who
 * @param {string} [path]  page to ask for; the app sends a visitor to sign in and back
 */
export async function signIn(page, who, path = '/') {
  await page.goto(`${baseUrl}${path}`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Factory ID', { exact: true }).fill(who.factory);
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const signedIn = page.getByTestId('session-email');
  // Only an alert on the sign-in form counts as a refusal, not an error card on the next page.
  const refused = page
    .getByRole('main')
    .filter({ has: page.getByRole('heading', { name: 'Sign in' }) })
    .getByRole('alert');
  await Promise.race([signedIn.waitFor(), refused.waitFor()]);
  if (!(await signedIn.isVisible()) && (await refused.isVisible())) {
    assert.fail(`sign-in as ${who.email} was refused: ${(await refused.textContent())?.trim()}`);
  }
  assert.equal((await signedIn.textContent())?.trim(), who.email);
}
