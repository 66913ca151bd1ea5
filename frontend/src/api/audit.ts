import { http } from './client';
import { invalidResponse } from './errors';
import { isAuditEntry, isPage } from './guards';
import type { AuditList, AuditQuery } from './types';

/** `GET /api/v1/audit-log` (super admin), newest first, paged and filtered. */
export async function listAuditLog(query: AuditQuery, signal?: AbortSignal): Promise<AuditList> {
  const params = Object.fromEntries(
    Object.entries(query).filter(([, v]) => v !== undefined && v !== ''),
  );
  const response = await http.get<unknown>('/api/v1/audit-log', { params, signal });
  if (!isPage(response.data, isAuditEntry)) throw invalidResponse('audit log');
  return response.data;
}
