import { http } from './client';
import { invalidResponse } from './errors';
import type { DependencyState, HealthReport, HealthStatus, SystemInfo } from './types';

const healthStatuses: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];
const dependencyStates: readonly DependencyState[] = ['ok', 'down'];

function isHealthReport(value: unknown): value is HealthReport {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (!healthStatuses.includes(v.status as HealthStatus)) return false;
  if (typeof v.service !== 'string') return false;
  const deps = v.dependencies;
  if (typeof deps !== 'object' || deps === null || Array.isArray(deps)) return false;
  return Object.values(deps).every((s) => dependencyStates.includes(s as DependencyState));
}

function isSystemInfo(value: unknown): value is SystemInfo {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === 'string' &&
    typeof v.version === 'string' &&
    Array.isArray(v.roles) &&
    v.roles.every((r) => typeof r === 'string') &&
    (v.metadata_backend === 'sqlite' || v.metadata_backend === 'mysql') &&
    typeof v.started_at === 'string' &&
    typeof v.uptime_seconds === 'number'
  );
}

/**
 * `GET /health`. A 503 still carries a full report (the server is up but a dependency is
 * not), so both 200 and 503 count as answers here.
 */
export async function getHealth(signal?: AbortSignal): Promise<HealthReport> {
  const response = await http.get<unknown>('/health', {
    signal,
    validateStatus: (status) => status === 200 || status === 503,
  });
  if (!isHealthReport(response.data)) throw invalidResponse('health');
  return response.data;
}

/** `GET /api/v1/system/info`. */
export async function getSystemInfo(signal?: AbortSignal): Promise<SystemInfo> {
  const response = await http.get<unknown>('/api/v1/system/info', { signal });
  if (!isSystemInfo(response.data)) throw invalidResponse('system info');
  return response.data;
}
