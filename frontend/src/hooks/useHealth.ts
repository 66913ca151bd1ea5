import { useQuery } from '@tanstack/react-query';
import { getHealth } from '../api/system';

export const HEALTH_REFRESH_MS = 10_000;

/** The server's health report, polled every ten seconds while the page is visible. */
export function useHealth() {
  return useQuery({
    queryKey: ['health'],
    queryFn: ({ signal }) => getHealth(signal),
    refetchInterval: HEALTH_REFRESH_MS,
  });
}
