import { useState, type FormEvent } from 'react';
import { useChangePassword } from '../hooks/useSession';
import { confirmProblem, passwordProblem } from '../pages/passwordRules';
import { DialogFooter } from './ConfirmDialog';
import { Dialog } from './Dialog';
import { FormError, splitServerError, TextField } from './Form';

type Fields = { current: string; next: string; confirm: string };
type Errors = Partial<Record<keyof Fields, string>>;

function validate(fields: Fields): Errors {
  const errors: Errors = {};
  if (fields.current === '') errors.current = 'Enter your current password.';
  const weak = passwordProblem(fields.next);
  if (weak) errors.next = weak;
  else if (fields.next === fields.current) errors.next = 'Choose a password you do not use now.';
  const mismatch = confirmProblem(fields.next, fields.confirm);
  if (mismatch) errors.confirm = mismatch;
  return errors;
}

const serverFields = { current_password: 'current', new_password: 'next' } as const;

export function ChangePasswordDialog({ onClose }: { onClose: () => void }) {
  const mutation = useChangePassword();
  const [fields, setFields] = useState<Fields>({ current: '', next: '', confirm: '' });
  const [submitted, setSubmitted] = useState(false);
  const errors = submitted ? validate(fields) : {};
  const server = splitServerError(mutation.error, serverFields);
  // A 401 here means the current password was wrong, not that the session expired.
  const wrongCurrent = mutation.error?.status === 401;

  function set(name: keyof Fields, value: string) {
    setFields({ ...fields, [name]: value });
    if (mutation.isError) mutation.reset();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(validate(fields)).length > 0) return;
    mutation.mutate({ current_password: fields.current, new_password: fields.next });
  }

  return (
    <Dialog title="Change password" onClose={onClose}>
      <form noValidate onSubmit={submit} className="space-y-4">
        <TextField
          name="current_password"
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={fields.current}
          onChange={(v) => set('current', v)}
          error={
            errors.current ??
            (wrongCurrent ? mutation.error?.message : undefined) ??
            (server.field === 'current' ? server.message! : undefined)
          }
        />
        <TextField
          name="new_password"
          label="New password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters; common passwords are refused."
          value={fields.next}
          onChange={(v) => set('next', v)}
          error={errors.next ?? (server.field === 'next' ? server.message! : undefined)}
        />
        <TextField
          name="confirm_password"
          label="Repeat new password"
          type="password"
          autoComplete="new-password"
          value={fields.confirm}
          onChange={(v) => set('confirm', v)}
          error={errors.confirm}
        />
        {wrongCurrent ? null : <FormError error={server.general} />}
        <p className="text-xs text-slate-500">
          Changing the password signs you out everywhere, including this browser.
        </p>
        <DialogFooter
          onCancel={onClose}
          label="Change password"
          pendingLabel="Changing…"
          isPending={mutation.isPending}
        />
      </form>
    </Dialog>
  );
}
