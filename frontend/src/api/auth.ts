import { http } from './client';
import { invalidResponse } from './errors';
import type { LoginRequest, LoginResponse } from './types';

function isLoginResponse(value: unknown): value is LoginResponse {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const user = v.user as Record<string, unknown> | null | undefined;
  return (
    typeof v.access_token === 'string' &&
    v.access_token !== '' &&
    typeof v.token_type === 'string' &&
    v.token_type.toLowerCase() === 'bearer' &&
    typeof v.expires_in === 'number' &&
    typeof v.refresh_token === 'string' &&
    typeof user === 'object' &&
    user !== null &&
    (typeof user.id === 'string' || typeof user.id === 'number') &&
    typeof user.email === 'string' &&
    typeof user.name === 'string' &&
    typeof user.role === 'string' &&
    typeof user.factory_id === 'string'
  );
}

/** `POST /api/v1/auth/login`: exchanges credentials for an access and a refresh token. */
export async function login(credentials: LoginRequest): Promise<LoginResponse> {
  const response = await http.post<unknown>('/api/v1/auth/login', credentials);
  if (!isLoginResponse(response.data)) throw invalidResponse('sign-in');
  return response.data;
}
