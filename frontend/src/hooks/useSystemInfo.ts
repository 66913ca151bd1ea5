import { useQuery } from '@tanstack/react-query';
import { getSystemInfo } from '../api/system';

/** Version, roles and uptime of the server; these change only on restart, so poll slowly. */
export function useSystemInfo() {
  return useQuery({
    queryKey: ['system-info'],
    queryFn: ({ signal }) => getSystemInfo(signal),
    refetchInterval: 60_000,
  });
}
