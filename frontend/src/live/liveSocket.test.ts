import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { openAlert } from '../test/ruleFixtures';
import {
  backoffDelay,
  BACKOFF_MAX_MS,
  CLOSE_UNAUTHORIZED,
  HANDSHAKE_TIMEOUT_MS,
  LiveSocket,
  liveUrl,
  PING_INTERVAL_MS,
  STABLE_AFTER_MS,
  type LiveConnectionState,
  type LiveEvent,
  type LiveSocketOptions,
  type LiveServerError,
} from './liveSocket';

const URL = 'wss://factory.example/api/v1/ws';

/** Lets pending promise callbacks (token look-ups) run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function setup(overrides: Partial<LiveSocketOptions> = {}) {
  const events: LiveEvent[] = [];
  const states: LiveConnectionState[] = [];
  const errors: LiveServerError[] = [];
  const getToken = vi.fn<() => Promise<string | null>>().mockResolvedValue('token-1');
  const refreshToken = vi.fn<(rejected: string) => Promise<string | null>>();
  const target = new EventTarget();
  const socket = new LiveSocket({
    url: URL,
    subscription: { devices: '*', params: ['power_kw'] },
    getToken,
    refreshToken,
    onEvent: (e) => events.push(e),
    onStateChange: (s) => states.push(s),
    onServerError: (e) => errors.push(e),
    WebSocket: FakeWebSocket,
    random: () => 0,
    events: target,
    ...overrides,
  });
  return { socket, events, states, errors, getToken, refreshToken, target };
}

describe('LiveSocket', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
  });
  afterEach(() => vi.useRealTimers());

  it('authenticates with subprotocols and keeps the token out of the URL', async () => {
    const { socket, states } = setup();
    socket.start();
    await settle();
    const ws = FakeWebSocket.latest();
    expect(ws.url).toBe(URL);
    expect(ws.url).not.toContain('token-1');
    expect(ws.protocols).toEqual(['factoryops.v1', 'bearer.token-1']);
    expect(states).toEqual(['connecting']);
    socket.stop();
  });

  it('subscribes once the server is ready, and only then counts as live', async () => {
    const { socket, states } = setup();
    socket.start();
    await settle();
    const ws = FakeWebSocket.latest();
    ws.accept();
    expect(ws.sent).toEqual([]);
    expect(socket.connectionState).toBe('connecting');

    ws.receive({ type: 'ready', factory_id: 'plant-01', user_id: 7 });
    expect(ws.messages()).toEqual([{ type: 'subscribe', devices: '*', params: ['power_kw'] }]);
    expect(states).toEqual(['connecting', 'live']);
    socket.stop();
  });

  it('leaves params out of the subscription when none are asked for', async () => {
    const { socket } = setup({ subscription: { devices: ['press-1', 'oven-2'] } });
    socket.start();
    await settle();
    FakeWebSocket.latest().ready();
    expect(FakeWebSocket.latest().messages()).toEqual([
      { type: 'subscribe', devices: ['press-1', 'oven-2'] },
    ]);
    socket.stop();
  });

  it('passes readings and status changes on, reports server errors, ignores the rest', async () => {
    const { socket, events, errors } = setup();
    socket.start();
    await settle();
    const ws = FakeWebSocket.latest();
    ws.ready();
    ws.receive({ type: 'reading', device_id: 'd1', ts: 1_000, values: { power_kw: 12.5 } });
    ws.receive({
      type: 'status',
      device_id: 'd1',
      online: false,
      last_seen_at: '2026-03-01T10:00:00Z',
    });
    ws.receive({ type: 'error', code: 'bad_subscription', message: 'Unknown parameter.' });
    ws.receive({ type: 'pong' });
    ws.receive({ type: 'reading', device_id: 'd1', ts: 'yesterday', values: { power_kw: 1 } });
    ws.receive({ type: 'status', device_id: 'd1', online: 'yes', last_seen_at: 'x' });
    ws.receive({ type: 'something-new', device_id: 'd1' });
    ws.receive('not json');
    ws.receive({ type: 'reading', device_id: 'd2', ts: 2_000, values: { power_kw: 'high', v: 3 } });

    expect(events).toEqual([
      { type: 'reading', device_id: 'd1', ts: 1_000, values: { power_kw: 12.5 } },
      { type: 'status', device_id: 'd1', online: false, last_seen_at: '2026-03-01T10:00:00Z' },
      { type: 'reading', device_id: 'd2', ts: 2_000, values: { v: 3 } },
    ]);
    expect(errors).toEqual([{ code: 'bad_subscription', message: 'Unknown parameter.' }]);
    // An error message does not end the connection.
    expect(ws.closedWith).toBeNull();
    expect(socket.connectionState).toBe('live');
    socket.stop();
  });

  it('on 4401 gets a fresh token and reconnects at once with it', async () => {
    const { socket, refreshToken, states } = setup();
    refreshToken.mockResolvedValue('token-2');
    socket.start();
    await settle();
    FakeWebSocket.latest().ready();

    FakeWebSocket.latest().serverClose(CLOSE_UNAUTHORIZED, 'token expired');
    expect(socket.connectionState).toBe('reconnecting');
    await settle();
    expect(refreshToken).toHaveBeenCalledExactlyOnceWith('token-1');
    expect(FakeWebSocket.instances).toHaveLength(2);
    const second = FakeWebSocket.latest();
    expect(second.protocols).toEqual(['factoryops.v1', 'bearer.token-2']);

    second.ready();
    expect(second.messages()).toEqual([{ type: 'subscribe', devices: '*', params: ['power_kw'] }]);
    expect(states).toEqual(['connecting', 'live', 'reconnecting', 'live']);
    socket.stop();
  });

  it('does not refresh in a loop when a fresh token is refused too', async () => {
    const { socket, refreshToken } = setup();
    refreshToken.mockResolvedValue('token-2');
    socket.start();
    await settle();
    FakeWebSocket.latest().serverClose(CLOSE_UNAUTHORIZED);
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(2);

    FakeWebSocket.latest().serverClose(CLOSE_UNAUTHORIZED);
    await settle();
    expect(refreshToken).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    // The next attempt waits out the backoff and asks for the session's token again.
    await vi.advanceTimersByTimeAsync(backoffDelay(1, () => 0));
    expect(FakeWebSocket.instances).toHaveLength(3);
    socket.stop();
  });

  it('goes offline for good when the session is gone', async () => {
    const { socket, refreshToken } = setup();
    refreshToken.mockResolvedValue(null);
    socket.start();
    await settle();
    FakeWebSocket.latest().serverClose(CLOSE_UNAUTHORIZED);
    await settle();
    expect(socket.connectionState).toBe('offline');
    await vi.advanceTimersByTimeAsync(5 * BACKOFF_MAX_MS);
    expect(FakeWebSocket.instances).toHaveLength(1);
    socket.stop();
  });

  it('retries with backoff when the token refresh fails', async () => {
    const { socket, refreshToken, getToken } = setup();
    refreshToken.mockRejectedValue(new Error('network down'));
    socket.start();
    await settle();
    FakeWebSocket.latest().serverClose(CLOSE_UNAUTHORIZED);
    await settle();
    expect(socket.connectionState).toBe('reconnecting');
    expect(FakeWebSocket.instances).toHaveLength(1);
    getToken.mockResolvedValue('token-3');
    await vi.advanceTimersByTimeAsync(backoffDelay(1, () => 0));
    expect(FakeWebSocket.latest().protocols).toContain('bearer.token-3');
    socket.stop();
  });

  it('does not connect without a session', async () => {
    const { socket, getToken } = setup();
    getToken.mockResolvedValue(null);
    socket.start();
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(socket.connectionState).toBe('offline');
  });

  it('reconnects after other closes with doubling, jittered waits, and says offline after three', async () => {
    const { socket, states } = setup();
    socket.start();
    await settle();
    const waits = [1_000, 2_000, 4_000, 8_000, 15_000, 15_000];
    for (const [i, wait] of waits.entries()) {
      FakeWebSocket.latest().serverClose(1006);
      expect(socket.connectionState).toBe(i < 2 ? 'reconnecting' : 'offline');
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(FakeWebSocket.instances).toHaveLength(i + 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeWebSocket.instances).toHaveLength(i + 2);
    }
    FakeWebSocket.latest().ready();
    expect(states).toEqual(['connecting', 'reconnecting', 'offline', 'live']);
    socket.stop();
  });

  it('starts the backoff over after a connection that stayed up', async () => {
    const { socket } = setup();
    socket.start();
    await settle();
    for (const wait of [1_000, 2_000, 4_000, 8_000]) {
      FakeWebSocket.latest().serverClose(1006);
      await vi.advanceTimersByTimeAsync(wait);
    }
    expect(FakeWebSocket.instances).toHaveLength(5);
    FakeWebSocket.latest().ready();
    await vi.advanceTimersByTimeAsync(STABLE_AFTER_MS);
    const before = FakeWebSocket.instances.length;
    FakeWebSocket.latest().serverClose(1001);
    expect(socket.connectionState).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeWebSocket.instances).toHaveLength(before + 1);
    socket.stop();
  });

  it('spreads the waits over the upper half of a doubling ceiling, at most 30 s', () => {
    expect(backoffDelay(1, () => 0)).toBe(1_000);
    expect(backoffDelay(1, () => 0.999_999)).toBe(2_000);
    expect(backoffDelay(3, () => 0.5)).toBe(6_000);
    expect(backoffDelay(5, () => 0)).toBe(15_000);
    expect(backoffDelay(20, () => 0.999_999)).toBe(BACKOFF_MAX_MS);
    for (let failures = 1; failures < 40; failures++) {
      const wait = backoffDelay(failures);
      expect(wait).toBeGreaterThanOrEqual(1_000);
      expect(wait).toBeLessThanOrEqual(BACKOFF_MAX_MS);
    }
  });

  it('pings a quiet connection and gives up one that stops answering', async () => {
    const { socket } = setup();
    socket.start();
    await settle();
    const ws = FakeWebSocket.latest();
    ws.ready();
    await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS);
    expect(ws.messages().at(-1)).toEqual({ type: 'ping' });
    ws.receive({ type: 'pong' });
    await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS);
    expect(ws.closedWith).toBeNull();
    expect(ws.messages().filter((m) => (m as { type: string }).type === 'ping')).toHaveLength(2);

    // No pong, no reading: the connection is dead even though no close event came.
    await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS);
    expect(ws.closedWith).not.toBeNull();
    expect(socket.connectionState).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(FakeWebSocket.instances).toHaveLength(2);
    socket.stop();
  });

  it('gives up a connection on which the server never says ready', async () => {
    const { socket } = setup();
    socket.start();
    await settle();
    FakeWebSocket.latest().accept();
    await vi.advanceTimersByTimeAsync(HANDSHAKE_TIMEOUT_MS);
    expect(FakeWebSocket.latest().closedWith).not.toBeNull();
    expect(socket.connectionState).toBe('reconnecting');
    socket.stop();
  });

  it('reconnects at once when the browser is back online', async () => {
    const { socket, target } = setup();
    socket.start();
    await settle();
    for (const wait of [1_000, 2_000, 4_000, 8_000]) {
      FakeWebSocket.latest().serverClose(1006);
      await vi.advanceTimersByTimeAsync(wait);
    }
    // The fifth failure waits 15 s or more; the network coming back cuts that short.
    FakeWebSocket.latest().serverClose(1006);
    expect(FakeWebSocket.instances).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeWebSocket.instances).toHaveLength(5);
    target.dispatchEvent(new Event('online'));
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(6);
    socket.stop();
  });

  it('stop() closes the connection and never reconnects', async () => {
    const { socket, states } = setup();
    socket.start();
    await settle();
    const ws = FakeWebSocket.latest();
    ws.ready();
    socket.stop();
    expect(ws.closedWith?.code).toBe(1000);
    ws.serverClose(1006);
    await vi.advanceTimersByTimeAsync(5 * BACKOFF_MAX_MS);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(states.at(-1)).toBe('stopped');
  });

  it('stop() during a token look-up opens nothing', async () => {
    let resolve: (token: string) => void = () => {};
    const { socket } = setup({
      getToken: () => new Promise<string>((r) => (resolve = r)),
    });
    socket.start();
    socket.stop();
    resolve('token-1');
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe('liveUrl', () => {
  it('uses wss on https pages and ws otherwise, on the page own host', () => {
    expect(liveUrl({ protocol: 'https:', host: 'plant.example' })).toBe(
      'wss://plant.example/api/v1/ws',
    );
    expect(liveUrl({ protocol: 'http:', host: '127.0.0.1:8000' })).toBe(
      'ws://127.0.0.1:8000/api/v1/ws',
    );
  });
});

describe('alert messages', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes alert messages on and subscribes to nothing without a subscription', async () => {
    const { socket, events } = setup({ subscription: null });
    socket.start();
    await settle();
    const ws = FakeWebSocket.latest();
    ws.ready();
    expect(ws.messages()).toEqual([]);
    ws.receive({ type: 'alert', event: 'opened', alert: openAlert });
    ws.receive({ type: 'alert', event: 'exploded', alert: openAlert });
    ws.receive({ type: 'alert', event: 'resolved', alert: { ...openAlert, severity: 'huge' } });
    expect(events).toEqual([{ type: 'alert', event: 'opened', alert: openAlert }]);
    socket.stop();
  });
});
