import { act, renderHook } from '@testing-library/react';
import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useSessionStore } from '../stores/session';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { mockServer, signInAs, tokens, viewerAdmin } from '../test/render';
import type { LiveEvent } from './liveSocket';
import { LIVE_FLUSH_MS, renewedSessionToken, sessionToken, useLiveFeed } from './useLiveFeed';

const subscription = { devices: '*' as const, params: ['power_kw'] };

const reading = (device: string, ts: number, power: number) => ({
  type: 'reading',
  device_id: device,
  ts,
  values: { power_kw: power },
});

describe('useLiveFeed', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
    signInAs(viewerAdmin, 'access-1', 'refresh-1');
  });
  afterEach(() => {
    server.restore();
    vi.useRealTimers();
  });

  it('connects with the session token and hands events over in batches', async () => {
    vi.useFakeTimers();
    const batches: LiveEvent[][] = [];
    const { result, unmount } = renderHook(() =>
      useLiveFeed({ subscription, onEvents: (events) => batches.push(events) }),
    );
    expect(result.current.state).toBe('connecting');
    await act(() => vi.advanceTimersByTimeAsync(0));
    const ws = FakeWebSocket.latest();
    expect(ws.url).toBe(`ws://${window.location.host}/api/v1/ws`);
    expect(ws.protocols).toEqual(['factoryops.v1', 'bearer.access-1']);

    act(() => ws.ready());
    expect(result.current.state).toBe('live');
    act(() => {
      for (let i = 0; i < 100; i++) ws.receive(reading('d1', i, i));
    });
    expect(batches).toHaveLength(0);
    await act(() => vi.advanceTimersByTimeAsync(LIVE_FLUSH_MS));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(100);
    expect(batches[0]!.at(-1)).toEqual(reading('d1', 99, 99));

    // Nothing new, nothing delivered.
    await act(() => vi.advanceTimersByTimeAsync(10 * LIVE_FLUSH_MS));
    expect(batches).toHaveLength(1);

    unmount();
    expect(ws.closedWith?.code).toBe(1000);
  });

  it('shows the last server error until the next connection is live', async () => {
    vi.useFakeTimers();
    const { result, unmount } = renderHook(() => useLiveFeed({ subscription, onEvents: () => {} }));
    await act(() => vi.advanceTimersByTimeAsync(0));
    act(() => FakeWebSocket.latest().ready());
    act(() =>
      FakeWebSocket.latest().receive({ type: 'error', code: 'too_many', message: 'Slow down.' }),
    );
    expect(result.current.serverError).toEqual({ code: 'too_many', message: 'Slow down.' });
    unmount();
  });

  it('stays closed while disabled', async () => {
    const { result } = renderHook(() =>
      useLiveFeed({ subscription, onEvents: () => {}, enabled: false }),
    );
    await act(() => Promise.resolve());
    expect(result.current.state).toBe('stopped');
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe('session tokens of the live feed', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  it('has no token without a session', async () => {
    expect(await sessionToken()).toBeNull();
    expect(await renewedSessionToken('access-1')).toBeNull();
  });

  it('renews a token about to expire before connecting with it', async () => {
    useSessionStore.getState().signIn(tokens(viewerAdmin, 'access-old', 'refresh-1'), 0);
    server
      .onPost('/api/v1/auth/refresh')
      .reply(200, tokens(viewerAdmin, 'access-new', 'refresh-2'));
    expect(await sessionToken()).toBe('access-new');
  });

  it('refreshes the session when the server refused its current token', async () => {
    signInAs(viewerAdmin, 'access-1', 'refresh-1');
    server.onPost('/api/v1/auth/refresh').reply(200, tokens(viewerAdmin, 'access-2', 'refresh-2'));
    expect(await renewedSessionToken('access-1')).toBe('access-2');
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({
      refresh_token: 'refresh-1',
    });
    expect(useSessionStore.getState().session?.refreshToken).toBe('refresh-2');
  });

  it('takes a token the HTTP client renewed meanwhile without refreshing again', async () => {
    signInAs(viewerAdmin, 'access-2', 'refresh-2');
    expect(await renewedSessionToken('access-1')).toBe('access-2');
    expect(server.history.post).toHaveLength(0);
  });

  it('ends the session when the refresh is refused', async () => {
    signInAs(viewerAdmin, 'access-1', 'refresh-1');
    server.onPost('/api/v1/auth/refresh').reply(401, {
      error: { code: 'unauthorized', message: 'Refresh token revoked.', request_id: 'r' },
    });
    await expect(renewedSessionToken('access-1')).rejects.toBeTruthy();
    expect(useSessionStore.getState().session).toBeNull();
  });
});
