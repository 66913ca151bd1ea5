import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { ApiError } from '../api/errors';
import { permissionNames, type Permissions, type Role, type User } from '../api/types';
import { deactivateUser, inviteUser, listUsers, updateUser } from '../api/users';
import { roleLabels } from '../auth/permissions';
import { Card } from '../components/Card';
import { ConfirmDialog, DialogFooter } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import {
  buttonClass,
  CopyButton,
  FormError,
  SelectField,
  splitServerError,
  TextField,
} from '../components/Form';
import { formatDateTime } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { TableHead } from '../components/TableHead';
import { NAME_MAX } from './AcceptInvitePage';
import { EMAIL_PATTERN } from './loginValidation';

const noPermissions: Permissions = {
  rules: false,
  analytics: false,
  reports: false,
  machines: false,
};

const permissionLabels: Record<keyof Permissions, string> = {
  rules: 'Rules',
  analytics: 'Analytics',
  reports: 'Reports',
  machines: 'Machines',
};

const roleOptions = [
  { value: 'admin', label: roleLabels.admin },
  { value: 'super_admin', label: roleLabels.super_admin },
];

export function PermissionChips({ user }: { user: Pick<User, 'role' | 'permissions'> }) {
  if (user.role === 'super_admin') {
    return <span className="text-xs text-slate-500">Everything</span>;
  }
  const granted = permissionNames.filter((name) => user.permissions[name]);
  if (granted.length === 0) return <span className="text-xs text-slate-500">View only</span>;
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Permissions">
      {granted.map((name) => (
        <li key={name} className="rounded bg-sky-50 px-1.5 py-0.5 text-xs text-sky-800">
          {permissionLabels[name]}
        </li>
      ))}
    </ul>
  );
}

function PermissionBoxes({
  value,
  onChange,
}: {
  value: Permissions;
  onChange: (next: Permissions) => void;
}) {
  return (
    <fieldset>
      <legend className="text-sm font-medium text-slate-800">Permissions</legend>
      <p className="text-xs text-slate-500">
        Admins always see the dashboard and machines. Tick what this admin may also change.
      </p>
      <div className="mt-2 grid grid-cols-2 gap-2">
        {permissionNames.map((name) => (
          <label key={name} className="flex items-center gap-2 text-sm text-slate-800">
            <input
              type="checkbox"
              checked={value[name]}
              onChange={(event) => onChange({ ...value, [name]: event.target.checked })}
            />
            {permissionLabels[name]}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function absoluteUrl(relative: string): string {
  return new URL(relative, window.location.origin).toString();
}

function InviteDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: inviteUser,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('admin');
  const [permissions, setPermissions] = useState<Permissions>(noPermissions);
  const [submitted, setSubmitted] = useState(false);

  const trimmed = email.trim();
  const emailError = !submitted
    ? undefined
    : trimmed === ''
      ? 'Enter the email address of the person to invite.'
      : !EMAIL_PATTERN.test(trimmed)
        ? 'Enter an email address such as name@example.com.'
        : undefined;
  const server = splitServerError(mutation.error, { email: 'email', role: 'role' });

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (trimmed === '' || !EMAIL_PATTERN.test(trimmed)) return;
    mutation.mutate({
      email: trimmed,
      role,
      ...(role === 'admin' ? { permissions } : {}),
    });
  }

  if (mutation.isSuccess) {
    const url = absoluteUrl(mutation.data.invite_url);
    return (
      <Dialog title="Invitation created" onClose={onClose} wide>
        {mutation.data.email === 'queued' ? (
          <p className="text-sm text-slate-700" data-testid="invite-email-state">
            An invitation email is on its way to <strong>{mutation.data.invitation.email}</strong>;
            whether it was sent shows in the audit log. You can also pass the link on yourself. It
            is shown only now, works once and stays valid for 72 hours (until{' '}
            {formatDateTime(mutation.data.invitation.expires_at)}).
          </p>
        ) : (
          <p className="text-sm text-slate-700" data-testid="invite-email-state">
            {mutation.data.email === 'not_configured'
              ? 'No email is sent: this installation has no mail server configured. '
              : 'The invitation email could not be queued. '}
            Send this link to <strong>{mutation.data.invitation.email}</strong>. It is shown only
            now, works once and stays valid for 72 hours (until{' '}
            {formatDateTime(mutation.data.invitation.expires_at)}).
          </p>
        )}
        <div className="mt-3 flex items-center gap-2">
          <a
            href={url}
            data-testid="invite-url"
            className="min-w-0 flex-1 rounded border border-slate-200 bg-slate-50 px-2 py-1.5 font-mono text-xs break-all text-sky-800"
          >
            {url}
          </a>
          <CopyButton text={url} label="Copy link" />
        </div>
        <div className="mt-4 flex justify-end">
          <button type="button" className={buttonClass.primary} onClick={onClose}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="Invite a user" onClose={onClose}>
      <form noValidate onSubmit={submit} className="space-y-4">
        <TextField
          name="email"
          label="Email"
          type="email"
          value={email}
          onChange={setEmail}
          error={emailError ?? (server.field === 'email' ? server.message! : undefined)}
        />
        <SelectField
          label="Role"
          value={role}
          onChange={(v) => setRole(v as Role)}
          options={roleOptions}
          error={server.field === 'role' ? server.message! : undefined}
        />
        {role === 'admin' ? (
          <PermissionBoxes value={permissions} onChange={setPermissions} />
        ) : (
          <p className="text-xs text-slate-500">
            A super admin may do everything, including managing users.
          </p>
        )}
        <FormError error={server.general} />
        <DialogFooter
          onCancel={onClose}
          label="Create invitation"
          pendingLabel="Inviting…"
          isPending={mutation.isPending}
        />
      </form>
    </Dialog>
  );
}

function EditUserDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: (update: Parameters<typeof updateUser>[1]) => updateUser(user.id, update),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      onClose();
    },
  });
  const [name, setName] = useState(user.name);
  const [role, setRole] = useState<Role>(user.role);
  const [permissions, setPermissions] = useState<Permissions>(user.permissions);
  const [active, setActive] = useState(user.is_active);
  const [submitted, setSubmitted] = useState(false);

  // The name is sent (and checked) only when it changed, so an account created without one
  // can still have its role or state changed.
  const trimmedName = name.trim();
  const nameChanged = trimmedName !== user.name.trim();
  const nameError =
    !submitted || !nameChanged
      ? undefined
      : trimmedName === ''
        ? 'Enter a name.'
        : [...trimmedName].length > NAME_MAX
          ? `Use at most ${NAME_MAX} characters.`
          : undefined;
  const server = splitServerError(mutation.error, { name: 'name', role: 'role' });

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (nameChanged && (trimmedName === '' || [...trimmedName].length > NAME_MAX)) return;
    mutation.mutate({
      ...(nameChanged ? { name: trimmedName } : {}),
      role,
      permissions,
      is_active: active,
    });
  }

  return (
    <Dialog title={`Edit ${user.email}`} onClose={onClose}>
      <form noValidate onSubmit={submit} className="space-y-4">
        <TextField
          name="name"
          label="Name"
          value={name}
          onChange={setName}
          error={nameError ?? (server.field === 'name' ? server.message! : undefined)}
        />
        <SelectField
          label="Role"
          value={role}
          onChange={(v) => setRole(v as Role)}
          options={roleOptions}
          error={server.field === 'role' ? server.message! : undefined}
        />
        {role === 'admin' ? (
          <PermissionBoxes value={permissions} onChange={setPermissions} />
        ) : null}
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
          Active (may sign in)
        </label>
        <ConflictAwareError error={server.general} />
        <DialogFooter
          onCancel={onClose}
          label="Save"
          pendingLabel="Saving…"
          isPending={mutation.isPending}
        />
      </form>
    </Dialog>
  );
}

/** The server's reason, with a plain explanation added for the last-super-admin rule. */
function ConflictAwareError({ error }: { error: ApiError | null }) {
  if (!error) return null;
  if (error.status === 409) {
    return (
      <div
        role="alert"
        className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900"
      >
        <p>{error.message}</p>
        <p className="mt-1 text-xs">
          A factory always keeps at least one active super admin. Make someone else super admin
          first.
        </p>
      </div>
    );
  }
  return <FormError error={error} />;
}

function DeactivateDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: () => deactivateUser(user.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title="Deactivate user"
      confirmLabel="Deactivate"
      pendingLabel="Deactivating…"
      tone="danger"
      onConfirm={() => mutation.mutate()}
      isPending={mutation.isPending}
      error={mutation.error}
      renderError={(error) => <ConflictAwareError error={error} />}
      onClose={onClose}
    >
      <p className="text-sm text-slate-700">
        <strong>{user.email}</strong> will be signed out on their next request and can no longer
        sign in. Their history stays in the audit log.
      </p>
    </ConfirmDialog>
  );
}

type Open = { kind: 'invite' } | { kind: 'edit'; user: User } | { kind: 'deactivate'; user: User };

export function UsersPage() {
  const users = useQuery({ queryKey: ['users'], queryFn: ({ signal }) => listUsers(signal) });
  const [open, setOpen] = useState<Open | null>(null);

  let body;
  if (users.isPending) body = <LoadingRows rows={4} label="Loading users…" />;
  else if (users.isError)
    body = (
      <ErrorPanel
        title="The user list is unavailable"
        error={users.error}
        onRetry={() => void users.refetch()}
        retrying={users.isFetching}
      />
    );
  else if (users.data.items.length === 0) body = <EmptyPanel message="No users yet." />;
  else
    body = (
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <TableHead
            columns={['Name', 'Email', 'Role', 'Permissions', 'Active', 'Last sign-in']}
            actions
          />
          <tbody className="divide-y divide-slate-100">
            {users.data.items.map((user) => (
              <tr key={String(user.id)} data-testid={`user-row-${user.email}`}>
                <td className="py-2 pr-3">{user.name || '—'}</td>
                <td className="py-2 pr-3 font-mono text-xs">{user.email}</td>
                <td className="py-2 pr-3">{roleLabels[user.role]}</td>
                <td className="py-2 pr-3">
                  <PermissionChips user={user} />
                </td>
                <td className="py-2 pr-3">{user.is_active ? 'Yes' : 'No'}</td>
                <td className="py-2 pr-3 text-xs">
                  {user.last_login_at ? formatDateTime(user.last_login_at) : 'Never'}
                </td>
                <td className="py-2 whitespace-nowrap">
                  <button
                    type="button"
                    className={buttonClass.small}
                    aria-label={`Edit ${user.email}`}
                    onClick={() => setOpen({ kind: 'edit', user })}
                  >
                    Edit
                  </button>{' '}
                  {user.is_active ? (
                    <button
                      type="button"
                      className={buttonClass.small}
                      aria-label={`Deactivate ${user.email}`}
                      onClick={() => setOpen({ kind: 'deactivate', user })}
                    >
                      Deactivate
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );

  return (
    <>
      <title>Users · FactoryOps</title>
      <div className="mb-4 flex items-center justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold text-slate-900">Users</h1>
          <p className="text-sm text-slate-500">
            Who may sign in to this factory, and what they may do.
          </p>
        </div>
        <button
          type="button"
          className={buttonClass.primary}
          onClick={() => setOpen({ kind: 'invite' })}
        >
          Invite
        </button>
      </div>
      <Card title="Accounts">{body}</Card>
      {open?.kind === 'invite' ? <InviteDialog onClose={() => setOpen(null)} /> : null}
      {open?.kind === 'edit' ? (
        <EditUserDialog user={open.user} onClose={() => setOpen(null)} />
      ) : null}
      {open?.kind === 'deactivate' ? (
        <DeactivateDialog user={open.user} onClose={() => setOpen(null)} />
      ) : null}
    </>
  );
}
