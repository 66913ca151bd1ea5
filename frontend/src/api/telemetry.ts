import { http } from './client';
import { invalidResponse } from './errors';
import {
  isFleetTelemetryAnswer,
  isIngestError,
  isLatestValue,
  isRecord,
  isTelemetryAnswer,
  isTelemetryStorage,
} from './guards';
import type {
  FleetTelemetryAnswer,
  FleetTelemetryQuery,
  IngestError,
  LatestValue,
  RetentionUpdate,
  TelemetryAnswer,
  TelemetryQuery,
  TelemetryStorage,
} from './types';

// Typed calls of the telemetry API (docs/api-telemetry.md).

const devicePath = (deviceId: string) => `/api/v1/devices/${encodeURIComponent(deviceId)}`;

/** The query string of a telemetry query: lists joined by commas, unset fields left out. */
export function telemetryParams(query: TelemetryQuery): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  if (query.params && query.params.length > 0) params.params = query.params.join(',');
  if (query.from !== undefined) params.from = query.from;
  if (query.to !== undefined) params.to = query.to;
  if (query.agg) params.agg = query.agg;
  if (query.interval) params.interval = query.interval;
  if (query.max_points !== undefined) params.max_points = query.max_points;
  return params;
}

/** `GET /api/v1/devices/{device_id}/telemetry`: raw points or buckets, per parameter. */
export async function queryTelemetry(
  deviceId: string,
  query: TelemetryQuery,
  signal?: AbortSignal,
): Promise<TelemetryAnswer> {
  const response = await http.get<unknown>(`${devicePath(deviceId)}/telemetry`, {
    params: telemetryParams(query),
    signal,
  });
  const data = response.data;
  if (!isTelemetryAnswer(data)) throw invalidResponse('telemetry');
  return { ...data, timezone: data.timezone ?? null };
}

/** Machines per `GET /api/v1/telemetry` request: the server takes at most this many. */
export const FLEET_QUERY_MAX_DEVICES = 50;

/** `GET /api/v1/telemetry`: one parameter across up to 50 machines, one series each. */
export async function queryFleetTelemetry(
  query: FleetTelemetryQuery,
  signal?: AbortSignal,
): Promise<FleetTelemetryAnswer> {
  const { devices, param, ...rest } = query;
  const response = await http.get<unknown>('/api/v1/telemetry', {
    params: { devices: devices.join(','), param, ...telemetryParams(rest) },
    signal,
  });
  const data = response.data;
  if (!isFleetTelemetryAnswer(data)) throw invalidResponse('telemetry');
  return { ...data, timezone: data.timezone ?? null };
}

export interface CsvFile {
  filename: string;
  text: string;
}

/** `filename="…"` of a Content-Disposition header, or null. */
export function attachmentName(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /filename="?([^";]+)"?/i.exec(header);
  return match ? match[1]!.trim() : null;
}

/**
 * The same query as CSV (`Accept: text/csv`). It goes through the API client, not a plain
 * link, so the bearer token and the token refresh apply.
 */
export async function downloadTelemetryCsv(
  deviceId: string,
  query: TelemetryQuery,
): Promise<CsvFile> {
  const response = await http.get<string>(`${devicePath(deviceId)}/telemetry`, {
    params: telemetryParams(query),
    headers: { Accept: 'text/csv' },
    responseType: 'text',
    // A year of several series is a large answer; give it more time than a JSON call.
    timeout: 120_000,
  });
  if (typeof response.data !== 'string') throw invalidResponse('CSV');
  return {
    filename:
      attachmentName(response.headers['content-disposition']) ?? `${deviceId}-telemetry.csv`,
    text: response.data,
  };
}

/** `GET /api/v1/devices/{device_id}/telemetry/latest`: the last value of each parameter. */
export async function getLatestTelemetry(
  deviceId: string,
  signal?: AbortSignal,
): Promise<LatestValue[]> {
  const response = await http.get<unknown>(`${devicePath(deviceId)}/telemetry/latest`, {
    signal,
  });
  const data = response.data;
  if (!isRecord(data) || !Array.isArray(data.values) || !data.values.every(isLatestValue)) {
    throw invalidResponse('latest values');
  }
  return data.values;
}

/** `GET /api/v1/devices/{device_id}/ingest-errors`: the last 20 rejections, newest first. */
export async function listIngestErrors(
  deviceId: string,
  signal?: AbortSignal,
): Promise<IngestError[]> {
  const response = await http.get<unknown>(`${devicePath(deviceId)}/ingest-errors`, { signal });
  const data = response.data;
  if (!isRecord(data) || !Array.isArray(data.items) || !data.items.every(isIngestError)) {
    throw invalidResponse('ingest error list');
  }
  return data.items;
}

/** `GET /api/v1/telemetry/storage` (super admin): engine, disk use and retention. */
export async function getTelemetryStorage(signal?: AbortSignal): Promise<TelemetryStorage> {
  const response = await http.get<unknown>('/api/v1/telemetry/storage', { signal });
  if (!isTelemetryStorage(response.data)) throw invalidResponse('telemetry storage');
  return response.data;
}

/** `PATCH /api/v1/telemetry/retention` (super admin); answers like the storage call. */
export async function updateRetention(update: RetentionUpdate): Promise<TelemetryStorage> {
  const response = await http.patch<unknown>('/api/v1/telemetry/retention', update);
  if (!isTelemetryStorage(response.data)) throw invalidResponse('telemetry storage');
  return response.data;
}
