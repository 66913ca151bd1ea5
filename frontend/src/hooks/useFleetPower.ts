import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { listAllDevices } from '../api/devices';
import { applyAlertEvents } from './useAlertFeed';
import { FLEET_QUERY_MAX_DEVICES, queryFleetTelemetry } from '../api/telemetry';
import type { LiveEvent } from '../live/liveSocket';
import { useLiveFeed } from '../live/useLiveFeed';
import {
  addSample,
  applyLiveEvents,
  fleetNow,
  POWER_PARAM,
  totalHistory,
  WINDOW_MS,
  type LiveOverlay,
  type Point,
  type PowerWindow,
} from '../pages/fleetPower';

// The dashboard's data: the machine list and the last 15 minutes of power from the REST API,
// kept current by the live feed, or by polling the same endpoints while the feed is down.

/** How often the REST endpoints are read again while the live feed is not connected. */
export const POLL_MS = 10_000;
/** How often the live total is added to the chart while the feed is connected. */
export const SAMPLE_MS = 5_000;
/** Bucket width of the window query: 90 buckets in 15 minutes. */
export const WINDOW_INTERVAL = '10s';
/** A live event naming an unknown machine re-reads the list at most this often. */
const UNKNOWN_MACHINE_RELOAD_MS = 10_000;

export const fleetKeys = {
  devices: ['fleet', 'devices'] as const,
  window: (ids: string[]) => ['fleet', 'power', ids] as const,
};

const subscription = { devices: '*' as const, params: [POWER_PARAM] };

/** The last WINDOW_MS of power of `deviceIds`, 50 machines per request. */
export async function fetchPowerWindow(
  deviceIds: string[],
  now: number,
  signal?: AbortSignal,
): Promise<PowerWindow> {
  const from = now - WINDOW_MS;
  const chunks: string[][] = [];
  for (let i = 0; i < deviceIds.length; i += FLEET_QUERY_MAX_DEVICES) {
    chunks.push(deviceIds.slice(i, i + FLEET_QUERY_MAX_DEVICES));
  }
  const answers = await Promise.all(
    chunks.map((devices) =>
      queryFleetTelemetry(
        {
          devices,
          param: POWER_PARAM,
          from,
          to: now,
          agg: 'last',
          interval: WINDOW_INTERVAL,
          // 90 buckets, plus room for the partial ones at either end.
          max_points: 200,
        },
        signal,
      ),
    ),
  );
  const series: Record<string, Point[]> = {};
  for (const answer of answers) for (const s of answer.series) series[s.device_id] = s.points;
  return { from, to: now, timezone: answers[0]?.timezone ?? null, series };
}

export function useFleetPower() {
  const queryClient = useQueryClient();
  const [overlay, setOverlay] = useState<LiveOverlay>(() => new Map());
  const [samples, setSamples] = useState<Point[]>([]);
  /** The listed machines; null until the list first arrives. */
  const knownIds = useRef<ReadonlySet<string> | null>(null);
  const lastListReload = useRef(0);

  const onEvents = useCallback(
    (events: LiveEvent[]) => {
      const now = Date.now();
      setOverlay((previous) => applyLiveEvents(previous, events, now));
      // A machine registered after the list was read: read the list again.
      applyAlertEvents(queryClient, events);
      const known = knownIds.current;
      const unknown =
        known !== null && events.some((e) => e.type !== 'alert' && !known.has(e.device_id));
      if (unknown && now - lastListReload.current >= UNKNOWN_MACHINE_RELOAD_MS) {
        lastListReload.current = now;
        void queryClient.invalidateQueries({ queryKey: fleetKeys.devices });
      }
    },
    [queryClient],
  );
  const feed = useLiveFeed({ subscription, onEvents });
  const live = feed.state === 'live';

  const devices = useQuery({
    queryKey: fleetKeys.devices,
    queryFn: ({ signal }) => listAllDevices(signal),
    refetchInterval: live ? false : POLL_MS,
  });
  const ids = useMemo(() => (devices.data ?? []).map((d) => d.device_id), [devices.data]);
  useEffect(() => {
    if (devices.data) knownIds.current = new Set(ids);
  }, [devices.data, ids]);

  const powerWindow = useQuery({
    queryKey: fleetKeys.window(ids),
    queryFn: ({ signal }) => fetchPowerWindow(ids, Date.now(), signal),
    enabled: ids.length > 0,
    placeholderData: keepPreviousData,
    refetchInterval: live ? false : POLL_MS,
  });

  // Back after an outage: read everything once, since polling may have missed the last seconds.
  const wasLive = useRef(false);
  useEffect(() => {
    if (live && wasLive.current) {
      void queryClient.invalidateQueries({ queryKey: ['fleet'] });
    }
    if (live) wasLive.current = true;
  }, [live, queryClient]);

  const fleet = useMemo(
    () => fleetNow(devices.data ?? [], devices.dataUpdatedAt, powerWindow.data, overlay),
    [devices.data, devices.dataUpdatedAt, powerWindow.data, overlay],
  );

  const history = useMemo(() => {
    if (!powerWindow.data) return [];
    const online = new Set(
      fleet.machines.filter((m) => m.status === 'online').map((m) => m.deviceId),
    );
    return totalHistory(powerWindow.data, (id) => online.has(id));
  }, [powerWindow.data, fleet.machines]);

  const total = useRef(fleet.totalKw);
  useEffect(() => {
    total.current = fleet.totalKw;
  }, [fleet.totalKw]);
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(
      () => setSamples((previous) => addSample(previous, [Date.now(), total.current])),
      SAMPLE_MS,
    );
    return () => clearInterval(timer);
  }, [live]);

  return { devices, powerWindow, feed, fleet, history, samples };
}
