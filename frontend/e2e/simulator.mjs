// @ts-check
// `factoryops simulate` for the browser tests that follow a machine along the real path of a
// reading (MQTT broker, telemetry role, live feed, rule engine). Settings (scripts/e2e.sh sets
// them):
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
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

// The simulator names its machines sim-001, sim-002, ... "Simulated machine 1", ...
export const DEVICE_ID = 'sim-001';
export const DEVICE_NAME = 'Simulated machine 1';
/** How long a page may take to show what the simulator did. */
export const WAIT_MS = 30_000;

const logDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  process.env.FACTORYOPS_E2E_LOG_DIR || join('..', 'build', 'e2e'),
);
const logFile = join(logDir, 'factoryops-simulate-e2e.log');

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();

/**
 * Makes sure no simulator outlives the test file, whatever happens to its tests; call once at
 * the top of a file that starts one.
 */
export function useSimulator() {
  after(async () => {
    await Promise.all([...running].map(stopSimulator));
  });
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * Starts `factoryops simulate` with one machine publishing a reading a second over MQTT. It
 * runs until stopped (and ends by itself after four minutes should the test die first).
 *
 * @param {string} factory
 */
export async function startSimulator(factory) {
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
export async function stopSimulator(child) {
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

/** The last lines the simulator printed. */
export function simulatorLog() {
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
export async function waitUntil(what, read, accept, simulator) {
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
