import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { BrandMark } from '../components/BrandMark';
import { useLogin } from '../hooks/useLogin';
import { useSessionStore } from '../stores/session';
import {
  signInErrorMessage,
  validateLogin,
  type LoginFieldErrors,
  type LoginFields,
} from './loginValidation';

interface FieldProps {
  name: keyof LoginFields;
  label: string;
  type: 'text' | 'email' | 'password';
  autoComplete: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
  hint?: string;
}

function Field({ name, label, type, autoComplete, value, error, onChange, hint }: FieldProps) {
  const id = `login-${name}`;
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null]
    .filter(Boolean)
    .join(' ');
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      <input
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        spellCheck={false}
        autoCapitalize="none"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        className={`mt-1 block w-full rounded-md border bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:ring-2 focus:outline-none ${
          error
            ? 'border-red-500 focus:border-red-500 focus:ring-red-200'
            : 'border-slate-300 focus:border-sky-600 focus:ring-sky-200'
        }`}
      />
      {hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-xs font-medium text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

const emptyFields: LoginFields = { factoryId: '', email: '', password: '' };
const fieldOrder: (keyof LoginFields)[] = ['factoryId', 'email', 'password'];

/** Where to go after signing in: a path on this site only, never another origin. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login')) return '/';
  return next;
}

export function LoginPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const notice = useSessionStore((state) => state.notice);
  const loginMutation = useLogin();
  const [fields, setFields] = useState<LoginFields>(emptyFields);
  const [errors, setErrors] = useState<LoginFieldErrors>({});
  // Errors appear on submit, then follow each keystroke so a fixed field clears at once.
  const [submitted, setSubmitted] = useState(false);

  function update(name: keyof LoginFields, value: string) {
    const next = { ...fields, [name]: value };
    setFields(next);
    if (submitted) setErrors(validateLogin(next));
  }

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSubmitted(true);
    const found = validateLogin(fields);
    setErrors(found);
    const firstInvalid = fieldOrder.find((name) => found[name]);
    if (firstInvalid) {
      const input = event.currentTarget.elements.namedItem(firstInvalid);
      if (input instanceof HTMLInputElement) input.focus();
      return;
    }
    loginMutation.mutate(
      { factory_id: fields.factoryId, email: fields.email.trim(), password: fields.password },
      { onSuccess: () => void navigate(next, { replace: true }) },
    );
  }

  return (
    <div className="flex min-h-screen items-center justify-center bg-slate-100 px-4 py-10">
      <title>Sign in · FactoryOps</title>
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-center gap-2">
          <BrandMark className="size-9" />
          <span className="text-xl font-semibold tracking-tight text-slate-900">FactoryOps</span>
        </div>
        <main className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
          <h1 className="text-lg font-semibold text-slate-900">Sign in</h1>
          <p className="mt-1 text-sm text-slate-500">Use the account your administrator created.</p>
          {notice && !loginMutation.isError ? (
            <div
              role="status"
              className="mt-4 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900"
            >
              {notice}
            </div>
          ) : null}
          {loginMutation.isError ? (
            <div
              role="alert"
              className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
            >
              <p>{signInErrorMessage(loginMutation.error)}</p>
              {loginMutation.error.requestId ? (
                <p className="mt-1 font-mono text-xs text-red-700">
                  Request ID: {loginMutation.error.requestId}
                </p>
              ) : null}
            </div>
          ) : null}
          <form noValidate onSubmit={handleSubmit} className="mt-5 space-y-4">
            <Field
              name="factoryId"
              label="Factory ID"
              type="text"
              autoComplete="organization"
              hint="Lowercase, for example plant-01"
              value={fields.factoryId}
              error={errors.factoryId}
              onChange={(value) => update('factoryId', value)}
            />
            <Field
              name="email"
              label="Email"
              type="email"
              autoComplete="username"
              value={fields.email}
              error={errors.email}
              onChange={(value) => update('email', value)}
            />
            <Field
              name="password"
              label="Password"
              type="password"
              autoComplete="current-password"
              value={fields.password}
              error={errors.password}
              onChange={(value) => update('password', value)}
            />
            <button
              type="submit"
              disabled={loginMutation.isPending}
              className="w-full rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-700 disabled:cursor-wait disabled:opacity-70"
            >
              {loginMutation.isPending ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        </main>
      </div>
    </div>
  );
}
