import axios, { AxiosHeaders } from 'axios';
import { useSessionStore } from '../stores/session';
import { toApiError } from './errors';
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

http.interceptors.request.use((config) => {
  const headers = AxiosHeaders.from(config.headers);
  headers.set('X-Request-ID', newRequestId());
  const session = useSessionStore.getState().session;
  if (session) headers.set('Authorization', `Bearer ${session.accessToken}`);
  config.headers = headers;
  return config;
});

http.interceptors.response.use(undefined, (error: unknown) => {
  const apiError = toApiError(error);
  // A rejected token will not become valid again; drop it so the header offers "Sign in".
  if (apiError.status === 401 && useSessionStore.getState().session) {
    useSessionStore.getState().signOut();
  }
  return Promise.reject(apiError);
});
