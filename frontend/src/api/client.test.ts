import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_EXPIRED_NOTICE, useSessionStore } from '../stores/session';
import { mockServer, signInAs as signInUser, tokens, viewerAdmin } from '../test/render';
import { REFRESH_URL } from './client';
import { listDevices } from './devices';
import { getHealth, getSystemInfo } from './system';
import type MockAdapter from 'axios-mock-adapter';

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const report = { status: 'healthy', service: 'factoryops', dependencies: { tsdb: 'ok' } };

function signInAs(token: string) {
  signInUser(viewerAdmin, token, 'refresh');
}

const unauthorized = {
  error: { code: 'unauthorized', message: 'Token expired.', request_id: 'r' },
};
const emptyPage = { items: [], total: 0, limit: 50, offset: 0 };

describe('HTTP client', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  it('sends a fresh version 4 UUID as X-Request-ID on every request', async () => {
    server.onGet('/health').reply(200, report);
    await getHealth();
    await getHealth();
    const ids = server.history.get.map((request) => request.headers?.['X-Request-ID'] as string);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(uuidV4);
    expect(ids[1]).toMatch(uuidV4);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('sends no Authorization header without a session', async () => {
    server.onGet('/health').reply(200, report);
    await getHealth();
    expect(server.history.get[0]!.headers?.Authorization).toBeUndefined();
  });

  it('sends the access token as a bearer token when signed in', async () => {
    signInAs('tok-123');
    server.onGet('/health').reply(200, report);
    await getHealth();
    expect(server.history.get[0]!.headers?.Authorization).toBe('Bearer tok-123');
  });

  it('drops the session when the token is rejected and cannot be refreshed', async () => {
    signInAs('expired');
    server.onGet('/api/v1/system/info').reply(401, unauthorized);
    server.onPost(REFRESH_URL).reply(401, unauthorized);
    await expect(getSystemInfo()).rejects.toMatchObject({ status: 401 });
    expect(useSessionStore.getState().session).toBeNull();
    expect(useSessionStore.getState().notice).toBe(SESSION_EXPIRED_NOTICE);
    expect(JSON.parse(server.history.post[0]!.data as string)).toEqual({
      refresh_token: 'refresh',
    });
  });

  it('accepts a 503 health report as data, since the body says what is down', async () => {
    const degraded = { status: 'degraded', service: 'factoryops', dependencies: { redis: 'down' } };
    server.onGet('/health').reply(503, degraded);
    await expect(getHealth()).resolves.toEqual(degraded);
  });

  it('rejects a health body of the wrong shape', async () => {
    server.onGet('/health').reply(200, { status: 'fine' });
    await expect(getHealth()).rejects.toMatchObject({ kind: 'invalid_response' });
  });

  it('rejects system info of the wrong shape', async () => {
    server.onGet('/api/v1/system/info').reply(200, '<!doctype html><title>app</title>');
    await expect(getSystemInfo()).rejects.toMatchObject({ kind: 'invalid_response' });
  });
});

describe('silent token refresh', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  /** Answers 401 to the old token and a page to the new one, like the real server. */
  function devicesNeedToken(valid: string) {
    server.onGet('/api/v1/devices').reply((config) => {
      const auth = (config.headers as Record<string, string>).Authorization;
      return auth === `Bearer ${valid}` ? [200, emptyPage] : [401, unauthorized];
    });
  }

  it('refreshes once on a 401, stores the new tokens and retries the request', async () => {
    signInAs('old');
    devicesNeedToken('new');
    server.onPost(REFRESH_URL).reply(200, tokens(viewerAdmin, 'new', 'refresh-2'));

    await expect(listDevices({})).resolves.toMatchObject({ total: 0 });
    expect(server.history.post.filter((r) => r.url === REFRESH_URL)).toHaveLength(1);
    expect(server.history.get).toHaveLength(2);
    const session = useSessionStore.getState().session!;
    expect(session.accessToken).toBe('new');
    expect(session.refreshToken).toBe('refresh-2');
  });

  it('sends one refresh for many requests rejected at once (single flight)', async () => {
    signInAs('old');
    devicesNeedToken('new');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    server.onPost(REFRESH_URL).reply(async () => {
      await gate;
      return [200, tokens(viewerAdmin, 'new', 'refresh-2')];
    });

    const requests = Promise.all([listDevices({}), listDevices({}), listDevices({})]);
    await new Promise((r) => setTimeout(r, 20));
    release();
    const pages = await requests;

    expect(pages).toHaveLength(3);
    expect(server.history.post.filter((r) => r.url === REFRESH_URL)).toHaveLength(1);
    const retried = server.history.get.filter(
      (r) => (r.headers as Record<string, string>).Authorization === 'Bearer new',
    );
    expect(retried).toHaveLength(3);
  });

  it('all waiting requests fail and the session ends when the refresh fails', async () => {
    signInAs('old');
    devicesNeedToken('never');
    server.onPost(REFRESH_URL).reply(401, unauthorized);

    const results = await Promise.allSettled([listDevices({}), listDevices({})]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(server.history.post.filter((r) => r.url === REFRESH_URL)).toHaveLength(1);
    expect(useSessionStore.getState().session).toBeNull();
  });

  it('does not loop: a 401 after a successful refresh ends the session', async () => {
    signInAs('old');
    devicesNeedToken('never');
    server.onPost(REFRESH_URL).reply(200, tokens(viewerAdmin, 'new', 'refresh-2'));
    await expect(listDevices({})).rejects.toMatchObject({ status: 401 });
    expect(server.history.post.filter((r) => r.url === REFRESH_URL)).toHaveLength(1);
    expect(useSessionStore.getState().session).toBeNull();
  });

  it('renews an access token about to expire before sending the request', async () => {
    useSessionStore.getState().signIn({ ...tokens(viewerAdmin, 'old', 'refresh'), expires_in: 5 });
    devicesNeedToken('new');
    server.onPost(REFRESH_URL).reply(200, tokens(viewerAdmin, 'new', 'refresh-2'));
    await listDevices({});
    expect(server.history.get).toHaveLength(1);
    expect((server.history.get[0]!.headers as Record<string, string>).Authorization).toBe(
      'Bearer new',
    );
  });

  it('treats a 401 from sign-in as an answer, not an expired session', async () => {
    signInAs('old');
    server.onPost('/api/v1/auth/login').reply(401, unauthorized);
    const { login } = await import('./auth');
    await expect(
      login({ factory_id: 'p', email: 'a@b.example', password: 'x' }),
    ).rejects.toMatchObject({ status: 401 });
    expect(server.history.post.filter((r) => r.url === REFRESH_URL)).toHaveLength(0);
  });
});
