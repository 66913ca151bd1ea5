import { QueryClient } from '@tanstack/react-query';
import type { ApiError } from './api/errors';

declare module '@tanstack/react-query' {
  interface Register {
    defaultError: ApiError;
  }
}

/**
 * One retry for server errors and dropped connections only: a 4xx will not change on its own,
 * and a status page should show "cannot reach the server" within seconds, not after a long
 * exponential back-off.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (failureCount, error) =>
          failureCount < 1 && (error.status === null || error.status >= 500),
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
