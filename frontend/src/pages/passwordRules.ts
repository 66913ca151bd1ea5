/** The server refuses shorter passwords (and common ones, which only it can tell). */
export const MIN_PASSWORD_LENGTH = 12;

export function passwordProblem(password: string): string | undefined {
  if (password === '') return 'Enter a password.';
  if (password.length < MIN_PASSWORD_LENGTH)
    return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  return undefined;
}

export function confirmProblem(password: string, confirm: string): string | undefined {
  if (confirm === '') return 'Repeat the password.';
  if (confirm !== password) return 'The two passwords differ.';
  return undefined;
}
