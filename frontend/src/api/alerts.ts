import { http } from './client';
import { invalidResponse } from './errors';
import { isAlert, isAlertCounts, isAlertDetail, isPage } from './guards';
import type { Alert, AlertCounts, AlertDetail, AlertList, AlertQuery } from './types';

// Typed calls of the alerts API: the filtered list, one alert with its notification log, the
// unresolved counts, and the two hand transitions (acknowledge, resolve).

const alertPath = (id: number) => `/api/v1/alerts/${encodeURIComponent(String(id))}`;

/** The query string of a list query: lists joined by commas, unset filters left out. */
export function alertParams(query: AlertQuery): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  if (query.status && query.status.length > 0) params.status = query.status.join(',');
  if (query.severity && query.severity.length > 0) params.severity = query.severity.join(',');
  if (query.device_id) params.device_id = query.device_id;
  if (query.rule_id !== undefined && query.rule_id !== '') params.rule_id = query.rule_id;
  if (query.from) params.from = query.from;
  if (query.to) params.to = query.to;
  if (query.limit !== undefined) params.limit = query.limit;
  if (query.offset !== undefined) params.offset = query.offset;
  return params;
}

/** `GET /api/v1/alerts`, newest first. */
export async function listAlerts(query: AlertQuery, signal?: AbortSignal): Promise<AlertList> {
  const response = await http.get<unknown>('/api/v1/alerts', {
    params: alertParams(query),
    signal,
  });
  if (!isPage(response.data, isAlert)) throw invalidResponse('alert list');
  return response.data;
}

/** `GET /api/v1/alerts/counts`: unresolved alerts by status, severity and machine. */
export async function getAlertCounts(signal?: AbortSignal): Promise<AlertCounts> {
  const response = await http.get<unknown>('/api/v1/alerts/counts', { signal });
  if (!isAlertCounts(response.data)) throw invalidResponse('alert counts');
  return response.data;
}

/** `GET /api/v1/alerts/{id}` with its notification log. */
export async function getAlert(id: number, signal?: AbortSignal): Promise<AlertDetail> {
  const response = await http.get<unknown>(alertPath(id), { signal });
  if (!isAlertDetail(response.data)) throw invalidResponse('alert');
  return response.data;
}

/** The body of acknowledge and resolve: the comment only when there is one. */
function commentBody(comment: string) {
  const trimmed = comment.trim();
  return trimmed === '' ? {} : { comment: trimmed };
}

/** `POST /api/v1/alerts/{id}/acknowledge`: 409 when already acknowledged or resolved. */
export async function acknowledgeAlert(id: number, comment = ''): Promise<Alert> {
  const response = await http.post<unknown>(`${alertPath(id)}/acknowledge`, commentBody(comment));
  if (!isAlert(response.data)) throw invalidResponse('alert');
  return response.data;
}

/** `POST /api/v1/alerts/{id}/resolve`: 409 when already resolved. */
export async function resolveAlert(id: number, comment = ''): Promise<Alert> {
  const response = await http.post<unknown>(`${alertPath(id)}/resolve`, commentBody(comment));
  if (!isAlert(response.data)) throw invalidResponse('alert');
  return response.data;
}

/** Longest comment the server takes on acknowledge and resolve. */
export const COMMENT_MAX = 1000;
