import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { can, type Action } from '../auth/permissions';
import { useSessionStore } from '../stores/session';
import { AccessDenied } from './AccessDenied';

/** The address of the sign-in page that comes back to `location` afterwards. */
export function loginPath(location: { pathname: string; search: string; hash?: string }) {
  const next = `${location.pathname}${location.search}${location.hash ?? ''}`;
  return next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`;
}

/**
 * Renders `children` only for a signed-in user; anyone else goes to the sign-in page, which
 * brings them back here afterwards. This also catches a session dropped mid-visit (failed
 * refresh), since the store change re-renders the guard.
 */
export function RequireSession({ children }: { children: ReactNode }) {
  const location = useLocation();
  const session = useSessionStore((state) => state.session);
  if (!session) return <Navigate to={loginPath(location)} replace />;
  return children;
}

/** Renders `children` only when the user may perform `action`; the server checks again. */
export function RequirePermission({ action, children }: { action: Action; children: ReactNode }) {
  const user = useSessionStore((state) => state.session?.user);
  if (!can(user, action)) return <AccessDenied />;
  return children;
}
