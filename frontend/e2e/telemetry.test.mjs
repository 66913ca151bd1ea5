// @ts-check
// Browser tests of telemetry on the machine page: a device posts readings over HTTP, and the
// page lists the discovered parameters, charts them, exports them as CSV and shows what the
// server rejected; the Storage page then counts the series and changes the retention. Same
// settings as smoke.test.mjs (see browser.mjs).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import {
  baseUrl,
  inPage,
  registerSecret,
  runId,
  signIn,
  superAdmin,
  TEST_TIMEOUT_MS,
  useBrowser,
  waitForText,
} from './browser.mjs';

useBrowser();

const READINGS = 30;

/**
 * Registers a machine through the page and returns its API key.
 *
 * @param {import('playwright-core').Page} page
 * @param {string} deviceId
 */
async function registerMachine(page, deviceId) {
  await page.goto(`${baseUrl}/machines`);
  await page.getByRole('heading', { name: 'Machines' }).waitFor();
  await page.getByRole('button', { name: 'Register machine' }).click();
  const dialog = page.getByRole('dialog', { name: 'Register machine' });
  await dialog.getByLabel('Device ID').fill(deviceId);
  await dialog.getByLabel('Name').fill('Telemetry E2E');
  await dialog.getByRole('button', { name: 'Register' }).click();
  const keyText = page.getByTestId('api-key');
  const refused = dialog.getByRole('alert');
  await Promise.race([keyText.waitFor(), refused.waitFor()]);
  if (await refused.isVisible()) {
    assert.fail(`registering the machine failed: ${(await refused.textContent())?.trim()}`);
  }
  const key = ((await keyText.textContent()) ?? '').trim();
  await registerSecret(key);
  await page.getByRole('button', { name: 'I have stored the key' }).click();
  return key;
}

/**
 * Posts a body to the ingest endpoint as the device.
 *
 * @param {string} key
 * @param {string} body
 */
async function ingest(key, body) {
  const response = await fetch(`${baseUrl}/api/v1/ingest`, {
    method: 'POST',
    headers: { Authorization: `Device ${key}`, 'Content-Type': 'application/json' },
    body,
  });
  return { status: response.status, body: /** @type {any} */ (await response.json()) };
}

/**
 * Reloads until `locator` shows up: parameters are discovered off the write path, so they may
 * appear a moment after the points were acknowledged.
 *
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').Locator} locator
 */
async function reloadUntilVisible(page, locator) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await locator.waitFor({ timeout: 3_000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await page.reload();
    }
  }
}

test(
  'posted readings appear as parameters, charts, CSV, rejected messages and storage use',
  { timeout: 2 * TEST_TIMEOUT_MS },
  () =>
    inPage('machine-telemetry', async (page) => {
      const deviceId = `meter-${runId}`;
      await signIn(page, superAdmin(), '/machines');
      const key = await registerMachine(page, deviceId);

      // Half an hour of one reading a minute, ending a minute ago.
      const end = Date.now() - 60_000;
      const readings = Array.from({ length: READINGS }, (_, i) => ({
        ts: end - (READINGS - 1 - i) * 60_000,
        power_kw: 10 + i,
        voltage_l1: 230,
      }));
      const accepted = await ingest(key, JSON.stringify(readings));
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.equal(accepted.body.accepted, READINGS);
      assert.equal(accepted.body.rejected, 0);

      // Two messages the server must refuse and record.
      const broken = await ingest(key, '{"ts": 1, "power_kw": ');
      assert.equal(broken.status, 400, JSON.stringify(broken.body));
      const badTime = await ingest(key, JSON.stringify({ ts: 'yesterday', power_kw: 1 }));
      assert.equal(badTime.status, 400, JSON.stringify(badTime.body));

      await page.goto(`${baseUrl}/machines/${deviceId}?range=1h`);
      const powerRow = page.getByTestId('parameter-power_kw');
      await reloadUntilVisible(page, powerRow);
      await page.getByTestId('parameter-voltage_l1').waitFor();
      // Discovered parameters start as KPIs; the last value is the last reading's.
      assert.equal(await powerRow.getByLabel('power_kw is a KPI').isChecked(), true);
      assert.equal(
        ((await page.getByTestId('latest-value-power_kw').textContent()) ?? '').trim(),
        String(10 + READINGS - 1),
      );

      // An hour of 30 points comes back raw, one chart per KPI, with a drawn line.
      const chart = page.getByTestId('chart-power_kw');
      await chart.waitFor();
      await page.getByTestId('chart-voltage_l1').waitFor();
      assert.match(
        ((await chart.getByTestId('chart-power_kw-count').textContent()) ?? '').trim(),
        new RegExp(`^${READINGS} points`),
      );
      assert.equal(((await page.getByTestId('chart-interval').textContent()) ?? '').trim(), 'raw');
      const line = chart.locator('path.recharts-line-curve');
      await line.waitFor();
      assert.match((await line.getAttribute('d')) ?? '', /^M[\d.]+,[\d.]+L/);

      // The CSV holds the same query: a header and one line per reading.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download CSV' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `${deviceId}-telemetry.csv`);
      const csv = (await readFile(await download.path(), 'utf8')).trim().split(/\r?\n/);
      const columns = (csv[0] ?? '').split(',');
      assert.equal(columns[0], 'time');
      assert.ok(columns.includes('power_kw'), `CSV header: ${csv[0]}`);
      assert.ok(columns.includes('voltage_l1'), `CSV header: ${csv[0]}`);
      assert.equal(csv.length, 1 + READINGS);

      // Unticking a KPI removes its chart, and the choice is kept by the server. A click, not
      // uncheck(): the box flips after the optimistic update renders, a moment after the click.
      await page.getByLabel('voltage_l1 is a KPI').click();
      await page.getByTestId('chart-voltage_l1').waitFor({ state: 'detached' });
      await page.reload();
      await page.getByTestId('chart-power_kw').waitFor();
      assert.equal(await page.getByLabel('voltage_l1 is a KPI').isChecked(), false);
      assert.equal(await page.getByTestId('chart-voltage_l1').count(), 0);

      // Both rejections are listed, newest first, with their payloads.
      const rejected = page.getByRole('list', { name: 'Rejected messages' });
      await rejected.waitFor();
      const items = rejected.getByRole('listitem');
      assert.equal(await items.count(), 2);
      await items.nth(0).getByText('bad_timestamp').waitFor();
      await items.nth(1).getByText('invalid_json').waitFor();
      await items.nth(1).getByText('Payload', { exact: true }).click();
      await items.nth(1).getByText('{"ts": 1, "power_kw":').waitFor();

      // The Storage page counts the new series and keeps a changed raw retention.
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Storage' })
        .click();
      await page.getByRole('heading', { name: 'Storage', level: 1 }).waitFor();
      const series = Number(
        ((await page.getByTestId('storage-series').textContent()) ?? '').replace(/\D/g, ''),
      );
      assert.ok(series >= 2, `series shown: ${series}`);
      const rawShown = page.getByTestId('retention-raw_days');
      const current = Number.parseInt(((await rawShown.textContent()) ?? '').trim(), 10);
      // A value other than the one in force, so a rerun against the same server changes it too.
      const target = current === 250 ? 251 : 250;
      await page.getByLabel('Raw points (days)').fill(String(target));
      await page.getByRole('button', { name: 'Save retention' }).click();
      if (target < current) {
        const confirm = page.getByRole('dialog', { name: 'Shorten retention?' });
        await confirm.getByRole('button', { name: 'Shorten and delete older data' }).click();
      }
      await page.getByRole('status').filter({ hasText: 'Retention saved' }).waitFor();
      await page.reload();
      await waitForText(rawShown, `${target} days`);
      assert.equal(await page.getByLabel('Raw points (days)').inputValue(), String(target));
    }),
);
