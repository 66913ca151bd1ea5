import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { ApiError } from '../api/errors';
import { BrandMark } from '../components/BrandMark';
import { buttonClass, FormError, splitServerError, TextField } from '../components/Form';
import { useAcceptInvite } from '../hooks/useSession';
import { confirmProblem, passwordProblem } from './passwordRules';

type Fields = { name: string; password: string; confirm: string };
type Errors = Partial<Record<keyof Fields, string>>;

export const NAME_MAX = 255;

function validate(fields: Fields): Errors {
  const errors: Errors = {};
  const name = fields.name.trim();
  if (name === '') errors.name = 'Enter your name.';
  else if ([...name].length > NAME_MAX) errors.name = `Use at most ${NAME_MAX} characters.`;
  const weak = passwordProblem(fields.password);
  if (weak) errors.password = weak;
  const mismatch = confirmProblem(fields.password, fields.confirm);
  if (mismatch) errors.confirm = mismatch;
  return errors;
}

/** A refused token, in words that tell the user what to do next. */
function tokenProblem(error: ApiError | null): string | null {
  if (!error) return null;
  if (error.status === 400 && error.field === 'token') {
    return 'This invitation link is invalid or has expired. Ask your administrator for a new one.';
  }
  if (error.status === 401 || error.status === 404 || error.status === 410) {
    return 'This invitation link is invalid, has expired or was already used. Ask your administrator for a new one.';
  }
  return null;
}

const serverFields = { name: 'name', password: 'password' } as const;

export function AcceptInvitePage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const mutation = useAcceptInvite();
  const [fields, setFields] = useState<Fields>({ name: '', password: '', confirm: '' });
  const [submitted, setSubmitted] = useState(false);
  const errors = submitted ? validate(fields) : {};
  const badToken = tokenProblem(mutation.error);
  const server = badToken ? null : splitServerError(mutation.error, serverFields);

  function set(name: keyof Fields, value: string) {
    setFields({ ...fields, [name]: value });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(validate(fields)).length > 0) return;
    mutation.mutate(
      { token, name: fields.name.trim(), password: fields.password },
      { onSuccess: () => void navigate('/', { replace: true }) },
    );
  }

  let body;
  if (token === '') {
    body = (
      <div role="alert" className="mt-4 text-sm text-red-800">
        This address has no invitation token. Open the full link you were given.
      </div>
    );
  } else if (badToken) {
    body = (
      <div
        role="alert"
        className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
      >
        {badToken}
      </div>
    );
  } else {
    body = (
      <form noValidate onSubmit={submit} className="mt-5 space-y-4">
        <TextField
          name="name"
          label="Your name"
          autoComplete="name"
          value={fields.name}
          onChange={(v) => set('name', v)}
          error={errors.name ?? (server?.field === 'name' ? server.message! : undefined)}
        />
        <TextField
          name="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters; common passwords are refused."
          value={fields.password}
          onChange={(v) => set('password', v)}
          error={errors.password ?? (server?.field === 'password' ? server.message! : undefined)}
        />
        <TextField
          name="confirm"
          label="Repeat password"
          type="password"
          autoComplete="new-password"
          value={fields.confirm}
          onChange={(v) => set('confirm', v)}
          error={errors.confirm}
        />
        <FormError error={server?.general} />
        <button
          type="submit"
          className={`${buttonClass.primary} w-full`}
          disabled={mutation.isPending}
        >
          {mutation.isPending ? 'Setting up…' : 'Create account'}
        </button>
      </form>
    );
  }

  return (
    <div className="flex min-h-screen items-center justify-center bg-slate-100 px-4 py-10">
      <title>Accept invitation · FactoryOps</title>
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-center gap-2">
          <BrandMark className="size-9" />
          <span className="text-xl font-semibold tracking-tight text-slate-900">FactoryOps</span>
        </div>
        <main className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
          <h1 className="text-lg font-semibold text-slate-900">Accept your invitation</h1>
          <p className="mt-1 text-sm text-slate-500">
            Choose the name others see and a password for your account.
          </p>
          {body}
        </main>
        <p className="mt-4 text-center text-sm">
          <Link to="/login" className="text-sky-800 hover:underline">
            Already have an account? Sign in
          </Link>
        </p>
      </div>
    </div>
  );
}
