import axios, {
  AxiosHeaders,
  type AxiosRequestConfig,
  type InternalAxiosRequestConfig,
} from 'axios';
import { SESSION_EXPIRED_NOTICE, useSessionStore, type Session } from '../stores/session';
import { toApiError, type ApiError } from './errors';
import { isLoginResponse } from './guards';
import { newRequestId } from './requestId';

/**
 * The one HTTP client of the app. Same-origin (empty base URL): the backend serves this app,
 * and the Vite dev server forwards API paths to it. Every failure reaches callers as ApiError.
 */
export const http = axios.create({
  baseURL: '',
  timeout: 15_000,
  headers: { Accept: 'application/json' },
});

export const REFRESH_URL = '/api/v1/auth/refresh';

/** Renew the access token this long before it expires, so a request never goes out stale. */
export const REFRESH_MARGIN_MS = 30_000;

/** Endpoints that take no access token: a 401 from them is an answer, not an expired session. */
const anonymousPaths = new Set([
  '/api/v1/auth/login',
  REFRESH_URL,
  '/api/v1/auth/logout',
  '/api/v1/auth/accept-invite',
]);

/** A 401 from these means a wrong password, so it must not trigger a token refresh. */
const passwordCheckPaths = new Set(['/api/v1/auth/change-password']);

interface RetryableConfig extends InternalAxiosRequestConfig {
  _retried?: boolean;
}

let refreshing: Promise<Session> | null = null;

/**
 * Exchanges the refresh token for new tokens. Single flight: however many requests find the
 * token expired at once, one `POST /auth/refresh` goes out and they all wait for it, because
 * the server spends a refresh token on first use and treats a second use as theft.
 * On failure the session is dropped; the route guard then sends the user to sign in.
 */
export function refreshSession(): Promise<Session> {
  if (refreshing) return refreshing;
  const store = useSessionStore.getState();
  const current = store.session;
  if (!current) return Promise.reject(toApiError(new Error('Not signed in.')));
  refreshing = (async () => {
    try {
      const response = await http.post<unknown>(REFRESH_URL, {
        refresh_token: current.refreshToken,
      });
      if (!isLoginResponse(response.data)) throw toApiError(new Error('Bad refresh answer.'));
      useSessionStore.getState().signIn(response.data);
      return useSessionStore.getState().session!;
    } catch (error) {
      // Only end the session if nobody signed in again meanwhile.
      if (useSessionStore.getState().session?.refreshToken === current.refreshToken) {
        useSessionStore.getState().signOut(SESSION_EXPIRED_NOTICE);
      }
      throw toApiError(error);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function pathOf(config: AxiosRequestConfig): string {
  return (config.url ?? '').split('?')[0]!;
}

http.interceptors.request.use(async (config) => {
  const headers = AxiosHeaders.from(config.headers);
  headers.set('X-Request-ID', newRequestId());
  let session = useSessionStore.getState().session;
  if (session && !anonymousPaths.has(pathOf(config))) {
    if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
      // Proactive renewal; if it fails the request goes out without a token and gets its 401.
      session = await refreshSession().catch(() => null);
    }
    if (session) headers.set('Authorization', `Bearer ${session.accessToken}`);
  }
  config.headers = headers;
  return config;
});

http.interceptors.response.use(undefined, async (error: unknown) => {
  const apiError: ApiError = toApiError(error);
  const config = (axios.isAxiosError(error) ? error.config : undefined) as
    RetryableConfig | undefined;
  const session = useSessionStore.getState().session;
  if (
    apiError.status !== 401 ||
    !config ||
    config._retried ||
    !session ||
    anonymousPaths.has(pathOf(config)) ||
    passwordCheckPaths.has(pathOf(config))
  ) {
    if (apiError.status === 401 && config?._retried && session) {
      // A fresh token was refused too: the account is gone or deactivated.
      useSessionStore.getState().signOut(SESSION_EXPIRED_NOTICE);
    }
    return Promise.reject(apiError);
  }
  const sentWith = AxiosHeaders.from(config.headers).get('Authorization');
  try {
    // Another request may already have renewed the token after this one went out.
    if (sentWith === `Bearer ${session.accessToken}`) await refreshSession();
  } catch {
    return Promise.reject(apiError);
  }
  config._retried = true;
  return http.request(config);
});
