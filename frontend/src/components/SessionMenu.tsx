import { useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useSessionStore } from '../stores/session';

/** Header corner: who is signed in, or a way to sign in. */
export function SessionMenu() {
  const session = useSessionStore((state) => state.session);
  const signOut = useSessionStore((state) => state.signOut);
  const queryClient = useQueryClient();

  if (!session) {
    return (
      <Link
        to="/login"
        className="rounded-md border border-slate-300 px-3 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
      >
        Sign in
      </Link>
    );
  }

  return (
    <div className="flex items-center gap-3 text-sm">
      <span className="hidden text-slate-600 sm:inline" data-testid="session-email">
        {session.user.email}
      </span>
      <button
        type="button"
        onClick={() => {
          signOut();
          queryClient.clear();
        }}
        className="rounded-md border border-slate-300 px-3 py-1 font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
      >
        Sign out
      </button>
    </div>
  );
}
