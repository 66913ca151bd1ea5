import { useCallback, useMemo, useState } from 'react';
import { telemetryAggs, type TelemetryAgg } from '../api/types';
import { useSearchParamState } from './useSearchParamState';

// What the machine charts show, kept in the address so a view can be shared as a link:
//   range=1h|6h|24h|7d|30d|1y  (a period up to now)  or  range=custom&from=<RFC 3339>&to=<RFC 3339>
//   agg=avg|min|max|sum|count|first|last
//   params=a,b                  (absent: the machine's KPI-selected parameters)

const hour = 3_600_000;
const day = 24 * hour;

export const rangePresets = [
  { key: '1h', label: '1 h', ms: hour },
  { key: '6h', label: '6 h', ms: 6 * hour },
  { key: '24h', label: '24 h', ms: day },
  { key: '7d', label: '7 d', ms: 7 * day },
  { key: '30d', label: '30 d', ms: 30 * day },
  { key: '1y', label: '1 y', ms: 365 * day },
] as const;

export type PresetKey = (typeof rangePresets)[number]['key'];
export const DEFAULT_PRESET: PresetKey = '24h';
export const DEFAULT_AGG: TelemetryAgg = 'avg';
/** The server's limits: at most 20 parameters per query and ranges of at most 5 years. */
export const MAX_CHARTED_PARAMS = 20;
export const MAX_RANGE_MS = 5 * 365 * day;

/** Why a custom range cannot be queried, or null when it can. */
export function rangeProblem(from: number | null, to: number | null): string | null {
  if (from === null) return 'Enter a valid start time.';
  if (to === null) return 'Enter a valid end time.';
  if (from >= to) return 'The start must be before the end.';
  if (to - from > MAX_RANGE_MS) return 'A range can span at most 5 years.';
  return null;
}

function presetOf(value: string | null): (typeof rangePresets)[number] | undefined {
  return rangePresets.find((p) => p.key === value);
}

function parseTime(value: string | null): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export interface TelemetryView {
  /** A preset key, or `custom`. */
  range: PresetKey | 'custom';
  /** The window to query, in epoch milliseconds. */
  from: number;
  to: number;
  agg: TelemetryAgg;
  /** Parameters chosen in the address, or null for the KPI selection. */
  params: string[] | null;
  setPreset: (key: PresetKey) => void;
  setCustom: (from: number, to: number) => void;
  setAgg: (agg: TelemetryAgg) => void;
  setParams: (params: string[] | null) => void;
  /** Moves a preset window up to the present moment. */
  refresh: () => void;
}

export function useTelemetryView(): TelemetryView {
  const [search, , setMany] = useSearchParamState();
  // A preset is a period ending now; "now" is pinned so the query key stays stable between
  // renders and moves only when the user asks for fresh data.
  const [now, setNow] = useState(() => Date.now());

  const rawRange = search.get('range');
  const customFrom = parseTime(search.get('from'));
  const customTo = parseTime(search.get('to'));
  const customValid = rawRange === 'custom' && rangeProblem(customFrom, customTo) === null;
  const preset = presetOf(rawRange) ?? presetOf(DEFAULT_PRESET)!;

  const rawAgg = search.get('agg');
  const agg = (telemetryAggs as readonly string[]).includes(rawAgg ?? '')
    ? (rawAgg as TelemetryAgg)
    : DEFAULT_AGG;

  const rawParams = search.get('params');
  const params = useMemo(
    () =>
      rawParams
        ? rawParams
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean)
        : null,
    [rawParams],
  );

  const setPreset = useCallback(
    (key: PresetKey) => {
      setNow(Date.now());
      setMany({ range: key === DEFAULT_PRESET ? '' : key, from: '', to: '' });
    },
    [setMany],
  );
  const setCustom = useCallback(
    (from: number, to: number) =>
      setMany({
        range: 'custom',
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
      }),
    [setMany],
  );
  const setAgg = useCallback(
    (value: TelemetryAgg) => setMany({ agg: value === DEFAULT_AGG ? '' : value }),
    [setMany],
  );
  const setParams = useCallback(
    (list: string[] | null) => setMany({ params: list ? list.join(',') : '' }),
    [setMany],
  );
  const refresh = useCallback(() => setNow(Date.now()), []);

  return customValid
    ? {
        range: 'custom',
        from: customFrom!,
        to: customTo!,
        agg,
        params,
        setPreset,
        setCustom,
        setAgg,
        setParams,
        refresh,
      }
    : {
        range: preset.key,
        from: now - preset.ms,
        to: now,
        agg,
        params,
        setPreset,
        setCustom,
        setAgg,
        setParams,
        refresh,
      };
}
