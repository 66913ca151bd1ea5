import { http } from './client';
import { invalidResponse } from './errors';
import { isInvitation, isPage, isRecord, isUser } from './guards';
import type { InviteRequest, InviteResponse, User, UserList, UserUpdate } from './types';

const path = (id: User['id']) => `/api/v1/users/${encodeURIComponent(String(id))}`;

/** `GET /api/v1/users` (super admin). */
export async function listUsers(signal?: AbortSignal): Promise<UserList> {
  const response = await http.get<unknown>('/api/v1/users', { signal });
  if (!isPage(response.data, isUser)) throw invalidResponse('user list');
  return response.data;
}

/**
 * `POST /api/v1/users/invite`: answers with a one-time link, valid 72 hours, and whether the
 * invitation email was queued.
 */
export async function inviteUser(request: InviteRequest): Promise<InviteResponse> {
  const response = await http.post<unknown>('/api/v1/users/invite', request);
  const data = response.data;
  if (
    !isRecord(data) ||
    !isInvitation(data.invitation) ||
    typeof data.invite_url !== 'string' ||
    data.invite_url === '' ||
    (data.email !== 'queued' && data.email !== 'not_configured' && data.email !== 'not_queued')
  ) {
    throw invalidResponse('invitation');
  }
  return data as unknown as InviteResponse;
}

/** `PATCH /api/v1/users/{id}`. */
export async function updateUser(id: User['id'], update: UserUpdate): Promise<User> {
  const response = await http.patch<unknown>(path(id), update);
  if (!isUser(response.data)) throw invalidResponse('user');
  return response.data;
}

/** `DELETE /api/v1/users/{id}`: deactivates the user (their history stays). */
export async function deactivateUser(id: User['id']): Promise<void> {
  await http.delete(path(id));
}
