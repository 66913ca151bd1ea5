// @ts-check
// Browser test of the live dashboard along the real path of a reading: `factoryops simulate`
// publishes one machine over MQTT, the telemetry role stores it, the live feed pushes it and
// the open page shows it without a reload. Settings as in browser.mjs and simulator.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  inPage,
  signIn,
  superAdmin,
  TEST_TIMEOUT_MS,
  useBrowser,
  waitForText,
} from './browser.mjs';
import {
  DEVICE_ID,
  DEVICE_NAME,
  simulatorLog,
  startSimulator,
  stopSimulator,
  useSimulator,
  waitUntil,
} from './simulator.mjs';

useBrowser();
useSimulator();

/**
 * What the dashboard shows of the machine and the factory, read in one go so the values come
 * from the same render.
 *
 * @param {import('playwright-core').Page} page
 */
function readDashboard(page) {
  return page.getByRole('main').evaluate((main, deviceId) => {
    const text = (/** @type {any} */ element) =>
      element ? (element.textContent ?? '').trim() : null;
    const tile = main.querySelector(`[data-testid="machine-tile-${deviceId}"]`);
    const total = main.querySelector('[data-testid="factory-power"]');
    const top = main.querySelector('ol[aria-label="Top consumers"]');
    return {
      /** @type {string | null} */
      tileStatus: text(tile?.querySelector('[data-testid="machine-status"]')),
      /** @type {string | null} */
      tilePower: text(tile?.querySelector('[data-testid="machine-power"]')),
      /** @type {string | null} */
      total: text(total),
      /** @type {string | null} */
      totalNote: text(total?.parentElement?.querySelector('p')),
      /** @type {string | null} */
      online: text(main.querySelector('[data-testid="machines-online"]')),
      /** @type {[string | null, string | null][]} */
      topConsumers: top
        ? [...top.querySelectorAll('[data-testid="top-consumer"]')].map(
            (/** @type {any} */ item) => [
              text(item.querySelector('a')),
              text(item.querySelector('span')),
            ],
          )
        : [],
      // Set once the dashboard first loaded: still there means the page was never reloaded.
      sameDocument: main.ownerDocument.defaultView?.dashboardE2e === true,
    };
  }, DEVICE_ID);
}

/** @param {string | null} text */
const isPower = (text) => text !== null && /^-?[\d.,\s\u00a0\u202f]+ kW$/.test(text);

test(
  'the dashboard follows a machine publishing over MQTT: live feed, power, total, status',
  { timeout: 3 * TEST_TIMEOUT_MS },
  () =>
    inPage('dashboard-live', async (page) => {
      const admin = superAdmin();
      await signIn(page, admin, '/');
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      // The live badge reaches "live", and then the page no longer says it is polling.
      await waitForText(page.getByTestId('live-state'), 'live');
      await page.getByTestId('polling-note').waitFor({ state: 'detached' });
      await page.getByRole('main').evaluate((main) => {
        main.ownerDocument.defaultView.dashboardE2e = true;
      });

      const simulator = await startSimulator(admin.factory);
      try {
        // Unless an earlier test file ran it (alerts.test.mjs does), the machine is provisioned
        // after the page loaded: its first live message makes the page read the machine list
        // again, and the tile appears, online.
        const tile = page.getByRole('listitem', { name: DEVICE_NAME, exact: true });
        await waitUntil(
          `the tile of ${DEVICE_ID} showed it online with its power`,
          () => readDashboard(page),
          (d) => d.tileStatus === 'online' && isPower(d.tilePower),
          simulator,
        );
        await tile.getByText(DEVICE_ID, { exact: true }).waitFor();

        // The simulated machine is the only one online that reports power (every other
        // machine of the test factory posts over HTTP and has no MQTT status), so the factory
        // total is its power: both follow each reading.
        const agree = (/** @type {Awaited<ReturnType<typeof readDashboard>>} */ d) =>
          d.tileStatus === 'online' && isPower(d.tilePower) && d.total === d.tilePower;
        const first = await waitUntil(
          'the factory total equalled the power on the tile',
          () => readDashboard(page),
          agree,
          simulator,
        );
        assert.match(first.totalNote ?? '', /\b1 online machine reporting it\b/);
        const changed = await waitUntil(
          `the power of ${DEVICE_ID} changed on its tile and in the factory total`,
          () => readDashboard(page),
          (d) => agree(d) && d.tilePower !== first.tilePower,
          simulator,
        );
        assert.ok(changed.sameDocument, 'the dashboard was reloaded');

        // The top-consumers list names the machine, with its power, and links to its page.
        const listed = await waitUntil(
          'the top-consumers list named the machine',
          () => readDashboard(page),
          (d) => d.topConsumers.some(([name, kw]) => name === DEVICE_NAME && isPower(kw)),
          simulator,
        );
        assert.equal(listed.topConsumers[0]?.[0], DEVICE_NAME);
        const topLink = page
          .getByRole('list', { name: 'Top consumers' })
          .getByRole('link', { name: DEVICE_NAME, exact: true });
        assert.equal(await topLink.getAttribute('href'), `/machines/${DEVICE_ID}`);
        const onlineWhileRunning = Number(listed.online);
        assert.ok(onlineWhileRunning >= 1, `machines online: ${listed.online}`);

        // A clean stop publishes "offline" (retained): the tile turns offline, the machine
        // leaves the top consumers and the total, and still without a reload.
        const status = await stopSimulator(simulator);
        assert.equal(status, 0, `the simulator exited with ${status}:\n${simulatorLog()}`);
        const stopped = await waitUntil(
          `the tile of ${DEVICE_ID} showed it offline`,
          () => readDashboard(page),
          (d) => d.tileStatus === 'offline',
        );
        assert.equal(Number(stopped.online), onlineWhileRunning - 1);
        assert.ok(
          !stopped.topConsumers.some(([name]) => name === DEVICE_NAME),
          `top consumers after the stop: ${JSON.stringify(stopped.topConsumers)}`,
        );
        assert.equal(stopped.total, '0 kW');
        // The tile keeps the last reading, greyed, and says why.
        assert.ok(isPower(stopped.tilePower), `power on the tile: ${stopped.tilePower}`);
        assert.equal(
          await tile.getByTestId('machine-power').getAttribute('title'),
          'The last reading before the machine went offline',
        );
        assert.ok(stopped.sameDocument, 'the dashboard was reloaded');
        await waitForText(page.getByTestId('live-state'), 'live');
      } finally {
        await stopSimulator(simulator);
      }
    }),
);
