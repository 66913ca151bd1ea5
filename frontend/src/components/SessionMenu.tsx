import { useState } from 'react';
import { roleLabels } from '../auth/permissions';
import { useSignOut } from '../hooks/useSession';
import { useSessionStore } from '../stores/session';
import { ChangePasswordDialog } from './ChangePasswordDialog';

const button =
  'rounded-md border border-slate-300 px-3 py-1 font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600';

/** Header corner: who is signed in, with their role, and the account actions. */
export function SessionMenu() {
  const session = useSessionStore((state) => state.session);
  const signOut = useSignOut();
  const [changing, setChanging] = useState(false);

  if (!session) return null;

  return (
    <div className="flex items-center gap-3 text-sm">
      <span className="hidden text-slate-600 sm:inline">
        <span data-testid="session-email">{session.user.email}</span>
        <span
          data-testid="session-role"
          className="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700"
        >
          {roleLabels[session.user.role] ?? session.user.role}
        </span>
      </span>
      <button type="button" onClick={() => setChanging(true)} className={button}>
        Change password
      </button>
      <button type="button" onClick={() => void signOut()} className={button}>
        Sign out
      </button>
      {changing ? <ChangePasswordDialog onClose={() => setChanging(false)} /> : null}
    </div>
  );
}
