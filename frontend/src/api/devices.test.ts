import MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { http } from './client';
import { listAllDevices } from './devices';
import type { Device } from './types';

const device = (id: string): Device => ({
  device_id: id,
  name: id,
  type: null,
  location: null,
  line: null,
  rated_power_kw: null,
  metadata: null,
  api_key_prefix: 'fo_abcde',
  is_enabled: true,
  status: 'online',
  last_seen_at: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
});

describe('listAllDevices', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = new MockAdapter(http, { onNoMatch: 'throwException' });
  });
  afterEach(() => server.restore());

  it('reads pages of 500 until it has every machine', async () => {
    const all = Array.from({ length: 1_200 }, (_, i) => device(`m-${i}`));
    server.onGet('/api/v1/devices').reply((config) => {
      const { limit, offset } = config.params as { limit: number; offset: number };
      return [200, { items: all.slice(offset, offset + limit), total: all.length, limit, offset }];
    });
    const listed = await listAllDevices();
    expect(listed.map((d) => d.device_id)).toEqual(all.map((d) => d.device_id));
    expect(server.history.get.map((r) => (r.params as { offset: number }).offset)).toEqual([
      0, 500, 1_000,
    ]);
  });

  it('stops at an empty page even when the total promised more', async () => {
    server
      .onGet('/api/v1/devices')
      .replyOnce(200, { items: [device('a')], total: 3, limit: 500, offset: 0 })
      .onGet('/api/v1/devices')
      .replyOnce(200, { items: [], total: 1, limit: 500, offset: 1 });
    expect((await listAllDevices()).map((d) => d.device_id)).toEqual(['a']);
    expect(server.history.get).toHaveLength(2);
  });
});
