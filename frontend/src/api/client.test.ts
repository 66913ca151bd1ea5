import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useSessionStore } from '../stores/session';
import { mockServer } from '../test/render';
import { getHealth, getSystemInfo } from './system';
import type MockAdapter from 'axios-mock-adapter';

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const report = { status: 'healthy', service: 'factoryops', dependencies: { tsdb: 'ok' } };

function signInAs(token: string) {
  useSessionStore.getState().signIn({
    access_token: token,
    token_type: 'bearer',
    expires_in: 900,
    refresh_token: 'refresh',
    user: { id: 7, email: 'ana@plant.example', name: 'Ana', role: 'admin', factory_id: 'plant-1' },
  });
}

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

  it('drops the session when the server rejects the token', async () => {
    signInAs('expired');
    server.onGet('/api/v1/system/info').reply(401, {
      error: { code: 'unauthorized', message: 'Token expired.', request_id: 'r' },
    });
    await expect(getSystemInfo()).rejects.toMatchObject({ status: 401 });
    expect(useSessionStore.getState().session).toBeNull();
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
