import { describe, expect, it } from 'vitest';
import type { Device } from '../api/types';
import {
  addSample,
  axisTicks,
  applyLiveEvents,
  chartEnd,
  chartPoints,
  fleetNow,
  totalHistory,
  WINDOW_MS,
  type PowerWindow,
} from './fleetPower';

function device(id: string, status: Device['status'], lastSeen: string | null = null): Device {
  return {
    device_id: id,
    name: id.toUpperCase(),
    type: null,
    location: null,
    line: null,
    rated_power_kw: null,
    metadata: null,
    api_key_prefix: 'fo_abcde',
    is_enabled: true,
    status,
    last_seen_at: lastSeen,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  };
}

const window = (series: PowerWindow['series']): PowerWindow => ({
  from: 0,
  to: 100_000,
  timezone: 'UTC',
  series,
});

describe('applyLiveEvents', () => {
  it('keeps the newest reading and the newest sighting of each machine', () => {
    let overlay = applyLiveEvents(
      new Map(),
      [
        { type: 'reading', device_id: 'a', ts: 2_000, values: { power_kw: 5 } },
        { type: 'reading', device_id: 'a', ts: 1_000, values: { power_kw: 9 } },
        { type: 'reading', device_id: 'b', ts: 3_000, values: { voltage: 230 } },
      ],
      50,
    );
    expect(overlay.get('a')).toEqual({ powerKw: 5, powerAt: 2_000, lastSeenAt: 2_000 });
    expect(overlay.get('b')).toEqual({ lastSeenAt: 3_000 });

    const before = overlay;
    overlay = applyLiveEvents(
      overlay,
      [{ type: 'status', device_id: 'a', online: false, last_seen_at: '1970-01-01T00:00:04Z' }],
      60,
    );
    expect(overlay.get('a')).toEqual({
      powerKw: 5,
      powerAt: 2_000,
      lastSeenAt: 4_000,
      online: false,
      statusAt: 60,
    });
    // React state: the previous overlay is not touched.
    expect(before.get('a')!.online).toBeUndefined();
  });
});

describe('fleetNow', () => {
  const devices = [
    device('a', 'online', '1970-01-01T00:00:01Z'),
    device('b', 'online'),
    device('c', 'offline'),
    device('d', 'unknown'),
  ];

  it('adds up the online machines and counts the states', () => {
    const fleet = fleetNow(
      devices,
      100,
      window({
        a: [
          [10_000, 4],
          [20_000, 7.5],
        ],
        b: [[20_000, 2.5]],
        c: [[5_000, 50]],
        d: [],
      }),
      new Map(),
    );
    expect(fleet.totalKw).toBe(10);
    expect(fleet.online).toBe(2);
    expect(fleet.offline).toBe(2);
    expect(fleet.neverSeen).toBe(1);
    expect(fleet.machines.map((m) => [m.deviceId, m.status, m.powerKw])).toEqual([
      ['a', 'online', 7.5],
      ['b', 'online', 2.5],
      ['c', 'offline', 50],
      ['d', 'unknown', null],
    ]);
    expect(fleet.machines[0]!.lastSeenAt).toBe(20_000);
    expect(fleet.top.map((m) => m.deviceId)).toEqual(['a', 'b']);
  });

  it('prefers a live reading newer than the window, and a status that came after the list', () => {
    const overlay = applyLiveEvents(
      new Map(),
      [
        { type: 'reading', device_id: 'a', ts: 30_000, values: { power_kw: 1 } },
        { type: 'reading', device_id: 'b', ts: 10_000, values: { power_kw: 99 } },
        { type: 'status', device_id: 'c', online: true, last_seen_at: '1970-01-01T00:00:31Z' },
      ],
      500,
    );
    const win = window({ a: [[20_000, 7.5]], b: [[20_000, 2.5]], c: [[5_000, 50]] });
    const fleet = fleetNow(devices, 100, win, overlay);
    expect(fleet.machines.map((m) => [m.deviceId, m.status, m.powerKw])).toEqual([
      ['a', 'online', 1],
      ['b', 'online', 2.5],
      ['c', 'online', 50],
      ['d', 'unknown', null],
    ]);
    expect(fleet.totalKw).toBe(53.5);
    expect(fleet.top.map((m) => m.deviceId)).toEqual(['c', 'b', 'a']);

    // The list fetched after the status message is newer: its status stands.
    expect(fleetNow(devices, 600, win, overlay).machines[2]!.status).toBe('offline');
  });

  it('lists at most five top consumers, largest first, ties by name', () => {
    const many = ['f', 'e', 'd', 'c', 'b', 'a', 'g'].map((id) => device(id, 'online'));
    const values: Record<string, number> = { a: 1, b: 6, c: 6, d: 3, e: 9, f: 2, g: 0 };
    const win = window(Object.fromEntries(Object.entries(values).map(([id, v]) => [id, [[1, v]]])));
    expect(fleetNow(many, 0, win, new Map()).top.map((m) => m.deviceId)).toEqual([
      'e',
      'b',
      'c',
      'd',
      'f',
    ]);
  });
});

describe('totalHistory', () => {
  it('carries each machine forward and ends an offline machine at its last point', () => {
    const win = window({
      a: [
        [0, 1],
        [20, 2],
      ],
      b: [[10, 10]],
      c: [
        [0, 100],
        [10, 100],
      ],
    });
    const online = new Set(['a', 'b']);
    expect(totalHistory(win, (id) => online.has(id))).toEqual([
      [0, 101],
      [10, 111],
      [20, 12],
    ]);
  });
});

describe('chart points', () => {
  it('continues the window with the live samples taken after it, within 15 minutes', () => {
    const now = 10 * WINDOW_MS;
    const history: [number, number][] = [
      [now - WINDOW_MS - 1, 1],
      [now - 60_000, 2],
      [now - 30_000, 3],
    ];
    const samples: [number, number][] = [
      [now - 40_000, 99],
      [now - 5_000, 4],
      [now, 5],
    ];
    expect(chartPoints(history, samples, now)).toEqual([
      [now - 60_000, 2],
      [now - 30_000, 3],
      [now - 5_000, 4],
      [now, 5],
    ]);
  });

  it('ends the axis at the newest sample when the clock has not caught up with it', () => {
    expect(chartEnd(1_000, [])).toBe(1_000);
    expect(chartEnd(1_000, [[900, 1]])).toBe(1_000);
    expect(
      chartEnd(1_000, [
        [900, 1],
        [1_200, 2],
      ]),
    ).toBe(1_200);
  });

  it('forgets samples older than the window', () => {
    const samples = addSample(
      [
        [0, 1],
        [WINDOW_MS, 2],
      ],
      [WINDOW_MS + 1, 3],
    );
    expect(samples).toEqual([
      [WINDOW_MS, 2],
      [WINDOW_MS + 1, 3],
    ]);
  });
});

describe('axisTicks', () => {
  it('puts a tick on every whole 3 minutes of the range', () => {
    const minute = 60_000;
    expect(axisTicks(100 * minute + 1, 115 * minute)).toEqual(
      [102, 105, 108, 111, 114].map((m) => m * minute),
    );
    expect(axisTicks(99 * minute, 102 * minute)).toEqual([99 * minute, 102 * minute]);
  });
});
