// @ts-check
// Browser test of a rule from the form to an acknowledged alert, along the real path of a
// reading: `factoryops simulate` publishes one machine over MQTT, the telemetry role stores the
// readings and queues them for the rule engine, which opens the alert; the live feed pushes it
// to the open Alerts page, where it is acknowledged with a comment. Settings as in browser.mjs
// and simulator.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  baseUrl,
  inPage,
  runId,
  signIn,
  superAdmin,
  TEST_TIMEOUT_MS,
  useBrowser,
  waitForText,
} from './browser.mjs';
import {
  DEVICE_ID,
  DEVICE_NAME,
  startSimulator,
  stopSimulator,
  useSimulator,
  waitUntil,
} from './simulator.mjs';

useBrowser();
useSimulator();

const RULE_NAME = `Simulated power high ${runId}`;
// The smallest machine the simulator models is rated 15 kW and idles at 8 % of that (1.2 kW,
// give or take 3 % noise), at night and at weekends alike: every reading is above 1 kW, so the
// rule holds from the first reading whatever the time of the run.
const THRESHOLD_KW = 1;
const DURATION_S = 2;
const COMMENT = `Checking the load of ${DEVICE_ID} (${runId})`;

/**
 * The alert rows of the Alerts page for the rule, read in one go.
 *
 * @param {import('playwright-core').Page} page
 */
function readAlertRows(page) {
  return page.getByRole('main').evaluate((main, ruleName) => {
    const rows = [...main.querySelectorAll('tr[data-testid^="alert-row-"]')];
    return {
      rows: rows
        .filter((row) => row.querySelector('td:nth-child(3) a')?.textContent?.trim() === ruleName)
        .map((row) => ({
          id: Number(row.getAttribute('data-testid')?.replace('alert-row-', '')),
          status: row.querySelector('[data-testid="alert-status"]')?.textContent?.trim() ?? null,
          severity: row.querySelector('[data-testid="severity"]')?.textContent?.trim() ?? null,
          device: row.querySelector('td:nth-child(4)')?.textContent?.trim() ?? null,
          value: row.querySelector('td:nth-child(5)')?.textContent?.trim() ?? null,
        })),
      // Set once the page first loaded: still there means the page was never reloaded.
      sameDocument: main.ownerDocument.defaultView?.alertsE2e === true,
    };
  }, RULE_NAME);
}

/** A number as the page prints it ("29.41", "1,234.5") back to a number. */
const parseNumber = (/** @type {string | null} */ text) =>
  Number((text ?? '').replace(/[,\s\u00a0\u202f]/g, ''));

test(
  'a rule made in the form fires on a simulated machine; the alert is acknowledged with a comment',
  { timeout: 4 * TEST_TIMEOUT_MS },
  () =>
    inPage('alerts-acknowledge', async (page) => {
      const admin = superAdmin();
      await signIn(page, admin, '/rules');
      await page.getByRole('heading', { name: 'Rules', level: 1 }).waitFor();

      // The simulator provisions its machine as it starts, so the form can pick it.
      const simulator = await startSimulator(admin.factory);
      try {
        await page.getByRole('link', { name: 'New rule', exact: true }).click();
        await page.getByRole('heading', { name: 'New rule', level: 1 }).waitFor();
        const form = page.getByRole('form', { name: 'Rule' });
        const machine = form
          .getByRole('group', { name: 'Machines to watch' })
          .getByRole('checkbox', { name: `${DEVICE_ID} ${DEVICE_NAME}`, exact: true });
        await waitUntil(
          `${DEVICE_ID} was offered in the rule's machine list`,
          async () => {
            await form
              .getByLabel('Watch', { exact: true })
              .selectOption({ label: 'Machines I pick' });
            // The list loads after the choice; give it a few seconds before reading it again.
            const shown = await machine.waitFor({ timeout: 5_000 }).then(
              () => true,
              () => false,
            );
            if (shown) return true;
            // The list was read before the simulator registered its machine: read it again.
            await page.reload();
            await form.getByLabel('Watch', { exact: true }).waitFor();
            return false;
          },
          (offered) => offered,
          simulator,
        );

        await form.getByLabel('Name', { exact: true }).fill(RULE_NAME);
        await form.getByLabel('Severity', { exact: true }).selectOption('critical');
        await machine.check();
        await waitForText(form.getByText(/^\d+ selected\.$/), '1 selected.');
        await form.getByLabel('Kind', { exact: true }).selectOption('threshold');
        await form.getByLabel('Parameter', { exact: true }).fill('power_kw');
        await form.getByLabel('Comparison', { exact: true }).selectOption('>');
        await form.getByLabel('Threshold', { exact: true }).fill(String(THRESHOLD_KW));
        await form.getByLabel('Duration (seconds)', { exact: true }).fill(String(DURATION_S));
        const inApp = form.getByRole('checkbox', { name: /^In-app/ });
        await inApp.check();
        assert.equal(await form.getByLabel('Email addresses', { exact: true }).inputValue(), '');
        assert.equal(await form.getByLabel('WhatsApp numbers', { exact: true }).inputValue(), '');

        await form.getByRole('button', { name: 'Create rule', exact: true }).click();
        // Saved: the page becomes the rule's own, at its id.
        await page.getByRole('heading', { name: RULE_NAME, level: 1 }).waitFor();
        const ruleId = Number(new URL(page.url()).pathname.replace(/^\/rules\//, ''));
        assert.ok(Number.isInteger(ruleId) && ruleId > 0, `rule page: ${page.url()}`);

        // The list shows it, enabled, watching the machine.
        await page.getByRole('link', { name: '← Rules' }).click();
        const row = page.getByTestId(`rule-row-${ruleId}`);
        await row.getByRole('link', { name: RULE_NAME, exact: true }).waitFor();
        assert.equal(await row.getByTestId('severity').textContent(), 'critical');
        assert.ok(await row.getByRole('switch', { name: `Enabled: ${RULE_NAME}` }).isChecked());
        assert.match((await row.getByTestId('rule-condition').textContent()) ?? '', /power_kw/);

        // The Alerts page, open before the rule fires: the alert arrives over the live feed.
        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: 'Alerts' })
          .click();
        await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
        await waitForText(page.getByTestId('live-state'), 'live');
        await page.getByRole('main').evaluate((main) => {
          main.ownerDocument.defaultView.alertsE2e = true;
        });
        const fired = await waitUntil(
          `the alert of "${RULE_NAME}" on ${DEVICE_ID} appeared on the Alerts page`,
          () => readAlertRows(page),
          (a) => a.rows.length > 0,
          simulator,
        );
        assert.ok(fired.sameDocument, 'the Alerts page was reloaded');
        // Exactly one alert for the (rule, machine), however many readings held.
        assert.equal(fired.rows.length, 1, JSON.stringify(fired.rows));
        const listed = fired.rows[0];
        assert.equal(listed.status, 'open');
        assert.equal(listed.severity, 'critical');
        assert.equal(listed.device, DEVICE_ID);
        assert.match(listed.value ?? '', /^power_kw: [\d.,]+ \(threshold 1(\.0+)?\)$/);

        // Its page: the value that fired it, above the threshold.
        await page
          .getByTestId(`alert-row-${listed.id}`)
          .getByRole('link', { name: RULE_NAME, exact: true })
          .click();
        await page
          .getByRole('heading', { name: `${RULE_NAME} on ${DEVICE_ID}`, level: 1 })
          .waitFor();
        assert.equal(new URL(page.url()).pathname, `/alerts/${listed.id}`);
        await waitForText(page.getByTestId('alert-status'), 'open');
        const value = parseNumber(await page.getByTestId('alert-value').textContent());
        assert.ok(value > THRESHOLD_KW, `triggering value ${value}`);
        assert.equal(parseNumber(await page.getByTestId('alert-threshold').textContent()), 1);
        assert.equal((await page.getByTestId('alert-acknowledged').textContent())?.trim(), '—');
        await page.getByTestId('alert-chart').waitFor();

        // Acknowledged through the dialog, with a comment.
        await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
        const dialog = page.getByRole('dialog', { name: 'Acknowledge alert' });
        await dialog.waitFor();
        await dialog.getByLabel('Comment (optional)').fill(COMMENT);
        await dialog.getByRole('button', { name: 'Acknowledge', exact: true }).click();
        await dialog.waitFor({ state: 'detached' });
        await waitForText(page.getByTestId('alert-status'), 'acknowledged');
        await waitForText(page.getByTestId('ack-comment'), `“${COMMENT}”`);
        assert.match(
          (await page.getByTestId('alert-acknowledged').textContent()) ?? '',
          / by E2E Admin$/,
        );
        // Acknowledged is no longer offered; resolving still is.
        assert.equal(
          await page.getByRole('button', { name: 'Acknowledge', exact: true }).count(),
          0,
        );
        await page.getByRole('button', { name: 'Resolve', exact: true }).waitFor();

        // The server kept it: a fresh load of the list shows it acknowledged.
        await page.goto(`${baseUrl}/alerts?rule_id=${ruleId}`);
        await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
        const after = await waitUntil(
          'the Alerts page listed the alert as acknowledged',
          () => readAlertRows(page),
          (a) => a.rows.length === 1 && a.rows[0].status === 'acknowledged',
          simulator,
        );
        assert.equal(after.rows[0].id, listed.id);
        await page.getByRole('button', { name: `Resolve alert ${listed.id}` }).waitFor();
        assert.equal(
          await page.getByRole('button', { name: `Acknowledge alert ${listed.id}` }).count(),
          0,
        );
      } finally {
        await stopSimulator(simulator);
      }
    }),
);
