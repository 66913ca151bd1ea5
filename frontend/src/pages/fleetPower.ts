// The dashboard's model of the factory's power, kept apart from React so it can be tested on
// its own: a REST snapshot (machines and the last 15 minutes of power) overlaid with what the
// live feed reported since, folded into per-machine values, totals and the chart's series.

import type { Device, DeviceStatus } from '../api/types';
import type { LiveEvent } from '../live/liveSocket';

/** The parameter the dashboard adds up; machines report it in kilowatts. */
export const POWER_PARAM = 'power_kw';
export const POWER_UNIT = 'kW';
/** The span of the power chart. */
export const WINDOW_MS = 15 * 60_000;
/** How many machines the top-consumers list shows. */
export const TOP_COUNT = 5;

export type Point = [number, number];

/** The last value of `power_kw` in each 10 s bucket of the window, per machine. */
export interface PowerWindow {
  from: number;
  to: number;
  /** The factory's timezone as the server names it. */
  timezone: string | null;
  series: Record<string, Point[]>;
}

/** What the live feed said about one machine; every field is absent until it said it. */
export interface LiveMachine {
  powerKw?: number;
  /** Server time of the reading, epoch ms. */
  powerAt?: number;
  online?: boolean;
  /** Browser time the status arrived, to compare with when the machine list was fetched. */
  statusAt?: number;
  lastSeenAt?: number;
}

export type LiveOverlay = ReadonlyMap<string, LiveMachine>;

/** A new overlay with `events` folded in; the old one is left as it was (React state). */
export function applyLiveEvents(
  overlay: LiveOverlay,
  events: readonly LiveEvent[],
  receivedAt: number,
): LiveOverlay {
  const next = new Map(overlay);
  for (const event of events) {
    if (event.type === 'alert') continue;
    const machine = { ...next.get(event.device_id) };
    if (event.type === 'reading') {
      const power = event.values[POWER_PARAM];
      if (power !== undefined && (machine.powerAt === undefined || event.ts >= machine.powerAt)) {
        machine.powerKw = power;
        machine.powerAt = event.ts;
      }
      machine.lastSeenAt = Math.max(machine.lastSeenAt ?? event.ts, event.ts);
    } else {
      machine.online = event.online;
      machine.statusAt = receivedAt;
      const seen = Date.parse(event.last_seen_at);
      if (!Number.isNaN(seen)) machine.lastSeenAt = Math.max(machine.lastSeenAt ?? seen, seen);
    }
    next.set(event.device_id, machine);
  }
  return next;
}

export interface MachineNow {
  deviceId: string;
  name: string;
  status: DeviceStatus;
  /** The newest power reading known, or null when none arrived in the window or since. */
  powerKw: number | null;
  powerAt: number | null;
  lastSeenAt: number | null;
}

export interface FleetNow {
  /** In the order of the machine list (by id), so tiles do not move as values change. */
  machines: MachineNow[];
  /** Sum over online machines; an offline machine's last reading is history, not load. */
  totalKw: number;
  online: number;
  /** Machines not online, including those never seen. */
  offline: number;
  neverSeen: number;
  /** Online machines with a power value, largest first, at most TOP_COUNT. */
  top: MachineNow[];
}

function lastPoint(points: Point[] | undefined): Point | undefined {
  return points && points.length > 0 ? points[points.length - 1] : undefined;
}

function maxOf(...values: (number | null | undefined)[]): number | null {
  let best: number | null = null;
  for (const v of values)
    if (v !== null && v !== undefined && (best === null || v > best)) best = v;
  return best;
}

/**
 * The state of every machine now. A live status counts when it arrived after the machine list
 * was fetched; otherwise the list's status stands. Power is the newer of the window's last
 * bucket and the last live reading.
 */
export function fleetNow(
  devices: readonly Device[],
  devicesFetchedAt: number,
  window: PowerWindow | undefined,
  overlay: LiveOverlay,
): FleetNow {
  const machines = devices.map((device): MachineNow => {
    const live = overlay.get(device.device_id);
    const fromWindow = lastPoint(window?.series[device.device_id]);
    let status: DeviceStatus = device.status;
    if (live?.online !== undefined && (live.statusAt ?? 0) > devicesFetchedAt) {
      status = live.online ? 'online' : 'offline';
    }
    let powerKw: number | null = fromWindow ? fromWindow[1] : null;
    let powerAt: number | null = fromWindow ? fromWindow[0] : null;
    if (live?.powerKw !== undefined && live.powerAt !== undefined) {
      if (powerAt === null || live.powerAt >= powerAt) {
        powerKw = live.powerKw;
        powerAt = live.powerAt;
      }
    }
    const listed = device.last_seen_at ? Date.parse(device.last_seen_at) : NaN;
    return {
      deviceId: device.device_id,
      name: device.name,
      status,
      powerKw,
      powerAt,
      lastSeenAt: maxOf(Number.isNaN(listed) ? null : listed, live?.lastSeenAt, powerAt),
    };
  });
  const online = machines.filter((m) => m.status === 'online');
  const consuming = online.filter((m) => m.powerKw !== null);
  return {
    machines,
    totalKw: consuming.reduce((sum, m) => sum + m.powerKw!, 0),
    online: online.length,
    offline: machines.length - online.length,
    neverSeen: machines.filter((m) => m.status === 'unknown').length,
    top: [...consuming]
      .sort((a, b) => b.powerKw! - a.powerKw! || a.name.localeCompare(b.name))
      .slice(0, TOP_COUNT),
  };
}

/**
 * The factory's total per bucket of the window: each machine counts with its last value at
 * or before the bucket. A machine that is not online now stops counting after its last
 * point, so the line ends where the live total (online machines only) goes on.
 */
export function totalHistory(
  window: PowerWindow,
  isOnline: (deviceId: string) => boolean,
): Point[] {
  const times = new Set<number>();
  for (const points of Object.values(window.series)) for (const [t] of points) times.add(t);
  const sorted = [...times].sort((a, b) => a - b);
  const series = Object.entries(window.series).filter(([, points]) => points.length > 0);
  const cursor = new Array<number>(series.length).fill(-1);
  return sorted.map((t) => {
    let total = 0;
    series.forEach(([deviceId, points], i) => {
      let at = cursor[i]!;
      while (at + 1 < points.length && points[at + 1]![0] <= t) at += 1;
      cursor[i] = at;
      if (at < 0) return;
      const [pointTime, value] = points[at]!;
      if (at === points.length - 1 && t > pointTime && !isOnline(deviceId)) return;
      total += value;
    });
    return [t, total];
  });
}

/** The live samples with `sample` added, keeping only those within the window of `sample`. */
export function addSample(samples: readonly Point[], sample: Point): Point[] {
  const from = sample[0] - WINDOW_MS;
  return [...samples.filter(([t]) => t >= from), sample];
}

/**
 * The right end of the time axis: the clock, or the newest sample when that is later (the
 * samples and the axis tick on different timers; a sample past the end would be cut off).
 */
export function chartEnd(clock: number, samples: readonly Point[]): number {
  const newest = samples.length > 0 ? samples[samples.length - 1]![0] : clock;
  return Math.max(clock, newest);
}

/** The chart's line: the window's totals, then the live samples taken after its last bucket. */
export function chartPoints(history: readonly Point[], samples: readonly Point[], now: number) {
  const from = now - WINDOW_MS;
  const last = history.length > 0 ? history[history.length - 1]![0] : -Infinity;
  return [...history.filter(([t]) => t >= from), ...samples.filter(([t]) => t > last && t >= from)];
}

/** Time-axis ticks: every 3 minutes. */
export const TICK_STEP_MS = 3 * 60_000;

/**
 * The ticks of the time axis in [from, to]: whole multiples of TICK_STEP_MS since the epoch.
 * Every timezone's offset is a multiple of 15 minutes, so they fall on round minutes
 * whichever zone the labels are written in.
 */
export function axisTicks(from: number, to: number): number[] {
  const ticks: number[] = [];
  for (let t = Math.ceil(from / TICK_STEP_MS) * TICK_STEP_MS; t <= to; t += TICK_STEP_MS) {
    ticks.push(t);
  }
  return ticks;
}
