// @ts-check
// Browser test of the live dashboard along the real path of a reading: `factoryops simulate`
// publishes one machine over MQTT, the telemetry role stores it, the live feed pushes it and
// the open page shows it without a reload. Settings as in browser.mjs, plus (scripts/e2e.sh
// sets them):
//
// FACTORYOPS_E2E_BINARY    the factoryops binary the server under test runs
// FACTORYOPS_E2E_LOG_DIR   where the simulator's output goes (default ../build/e2e)
// FACTORYOPS_DATA_DIR, FACTORYOPS_MQTT_*, ...
//                          the server's configuration, which the simulator shares: it provisions
//                          its machine in the same metadata database and broker
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  inPage,
  signIn,
  superAdmin,
  TEST_TIMEOUT_MS,
  useBrowser,
  waitForText,
} from './browser.mjs';

useBrowser();

// The simulator names its machines sim-001, sim-002, ... "Simulated machine 1", ...
const DEVICE_ID = 'sim-001';
const DEVICE_NAME = 'Simulated machine 1';
/** How long the page may take to show what the simulator did. */
const WAIT_MS = 30_000;

const logDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  process.env.FACTORYOPS_E2E_LOG_DIR || join('..', 'build', 'e2e'),
);
const logFile = join(logDir, 'factoryops-simulate-e2e.log');

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();

/**
 * Starts `factoryops simulate` with one machine publishing a reading a second over MQTT. It
 * runs until stopped (and ends by itself after four minutes should the test die first).
 *
 * @param {string} factory
 */
async function startSimulator(factory) {
  const binary = process.env.FACTORYOPS_E2E_BINARY;
  assert.ok(
    binary,
    'Set FACTORYOPS_E2E_BINARY to the factoryops binary of the server under test, with the ' +
      "server's FACTORYOPS_* settings (scripts/e2e.sh does both).",
  );
  await mkdir(logDir, { recursive: true });
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(
      binary,
      [
        'simulate',
        '--factory',
        factory,
        '--devices',
        '1',
        '--rate',
        '1',
        '--duration',
        '240',
        '--transport',
        'mqtt',
      ],
      { env: process.env, stdio: ['ignore', log, log] },
    );
    running.add(child);
    child.on('exit', () => running.delete(child));
    return child;
  } finally {
    closeSync(log);
  }
}

/**
 * Stops the simulator as an operator would (SIGTERM: it says offline and disconnects) and
 * returns its exit status; kills it when it does not end within 20 s.
 *
 * @param {import('node:child_process').ChildProcess} child
 * @returns {Promise<number | null>}
 */
async function stopSimulator(child) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
  return child.exitCode;
}

// Whatever happens to the test, no simulator outlives the file.
after(async () => {
  await Promise.all([...running].map(stopSimulator));
});
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function simulatorLog() {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no simulator log)';
  }
}

/**
 * Polls `read` until `accept` holds for its value, and returns that value. Fails with the last
 * value seen, and says so at once when the simulator ended before the page showed it.
 *
 * @template T
 * @param {string} what
 * @param {() => Promise<T>} read
 * @param {(value: T) => boolean} accept
 * @param {import('node:child_process').ChildProcess} [simulator]  must keep running meanwhile
 * @returns {Promise<T>}
 */
async function waitUntil(what, read, accept, simulator) {
  const deadline = Date.now() + WAIT_MS;
  let value = await read();
  while (!accept(value)) {
    if (simulator && (simulator.exitCode !== null || simulator.signalCode !== null)) {
      assert.fail(
        `the simulator ended (status ${simulator.exitCode ?? simulator.signalCode}) before ` +
          `${what}; its output:\n${simulatorLog()}`,
      );
    }
    if (Date.now() > deadline) {
      assert.fail(`${what}: not within ${WAIT_MS / 1000} s; last seen ${JSON.stringify(value)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
    value = await read();
  }
  return value;
}

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
        // The machine is provisioned after the page loaded: its first live message makes the
        // page read the machine list again, and the tile appears, online.
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
