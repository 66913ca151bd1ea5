import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { getMe } from '../api/auth';
import { useSessionStore } from '../stores/session';

/**
 * Keeps the stored user in step with the server (`GET /api/v1/auth/me`), so a role or
 * permission change made by a super admin reaches this user's menu without signing in again.
 */
export function useCurrentUser() {
  const signedIn = useSessionStore((state) => state.session !== null);
  const setUser = useSessionStore((state) => state.setUser);
  const me = useQuery({
    queryKey: ['me'],
    queryFn: ({ signal }) => getMe(signal),
    enabled: signedIn,
    staleTime: 60_000,
    retry: false,
  });
  useEffect(() => {
    if (me.data) setUser(me.data);
  }, [me.data, setUser]);
}
