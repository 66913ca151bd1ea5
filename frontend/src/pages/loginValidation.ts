import { NETWORK_ERROR_MESSAGE, type ApiError } from '../api/errors';

export interface LoginFields {
  factoryId: string;
  email: string;
  password: string;
}

export type LoginFieldErrors = Partial<Record<keyof LoginFields, string>>;

/** Factory ids are slugs chosen at creation; the server rejects anything else. */
export const FACTORY_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

// Deliberately loose: one "@", no spaces, dot-separated non-empty domain labels. Single-label
// domains stay allowed because on-premises installations often use internal host names.
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*$/;

export const messages = {
  factoryIdMissing: 'Enter your factory ID.',
  factoryIdInvalid:
    'Use up to 64 lowercase letters, digits, "-" or "_", starting with a letter or digit.',
  emailMissing: 'Enter your email address.',
  emailInvalid: 'Enter an email address such as name@example.com.',
  passwordMissing: 'Enter your password.',
  signInDisabled: 'Sign-in is not enabled on this server yet.',
} as const;

export function validateLogin(fields: LoginFields): LoginFieldErrors {
  const errors: LoginFieldErrors = {};
  if (fields.factoryId === '') errors.factoryId = messages.factoryIdMissing;
  else if (!FACTORY_ID_PATTERN.test(fields.factoryId)) errors.factoryId = messages.factoryIdInvalid;

  const email = fields.email.trim();
  if (email === '') errors.email = messages.emailMissing;
  else if (!EMAIL_PATTERN.test(email)) errors.email = messages.emailInvalid;

  if (fields.password === '') errors.password = messages.passwordMissing;
  return errors;
}

/** What to tell the user when the server refused or never answered a sign-in. */
export function signInErrorMessage(error: ApiError): string {
  if (error.kind === 'network') return NETWORK_ERROR_MESSAGE;
  if (error.status === 404 && error.code === 'not_found') return messages.signInDisabled;
  return error.message;
}
