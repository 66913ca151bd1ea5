import { http, refreshSession } from './client';
import { invalidResponse } from './errors';
import { isLoginResponse, isUser } from './guards';
import type {
  AcceptInviteRequest,
  ChangePasswordRequest,
  LoginRequest,
  LoginResponse,
  User,
} from './types';

/** `POST /api/v1/auth/login`: exchanges credentials for an access and a refresh token. */
export async function login(credentials: LoginRequest): Promise<LoginResponse> {
  const response = await http.post<unknown>('/api/v1/auth/login', credentials);
  if (!isLoginResponse(response.data)) throw invalidResponse('sign-in');
  return response.data;
}

/** `POST /api/v1/auth/refresh` for the stored session (single flight; see client.ts). */
export { refreshSession };

/** `POST /api/v1/auth/logout`: revokes the refresh token's family on the server. */
export async function logout(refreshToken: string): Promise<void> {
  await http.post('/api/v1/auth/logout', { refresh_token: refreshToken });
}

/** `GET /api/v1/auth/me`: the signed-in user as the server sees them now. */
export async function getMe(signal?: AbortSignal): Promise<User> {
  const response = await http.get<unknown>('/api/v1/auth/me', { signal });
  if (!isUser(response.data)) throw invalidResponse('account');
  return response.data;
}

/** `POST /api/v1/auth/change-password`; the server then invalidates every token of the user. */
export async function changePassword(request: ChangePasswordRequest): Promise<void> {
  await http.post('/api/v1/auth/change-password', request);
}

/** `POST /api/v1/auth/accept-invite`: sets name and password and signs the new user in. */
export async function acceptInvite(request: AcceptInviteRequest): Promise<LoginResponse> {
  const response = await http.post<unknown>('/api/v1/auth/accept-invite', request);
  if (!isLoginResponse(response.data)) throw invalidResponse('invitation');
  return response.data;
}
