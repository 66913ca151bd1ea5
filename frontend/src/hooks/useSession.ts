import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { acceptInvite, changePassword, logout } from '../api/auth';
import type { AcceptInviteRequest, ChangePasswordRequest } from '../api/types';
import { useSessionStore } from '../stores/session';

/** Revokes the refresh token on the server, then forgets the session whatever the answer. */
export function useSignOut() {
  const queryClient = useQueryClient();
  return useCallback(
    async (notice?: string) => {
      const session = useSessionStore.getState().session;
      if (session) await logout(session.refreshToken).catch(() => undefined);
      useSessionStore.getState().signOut(notice);
      queryClient.clear();
    },
    [queryClient],
  );
}

export const PASSWORD_CHANGED_NOTICE =
  'Your password was changed and every session was signed out. Sign in with the new password.';

/** Changes the password; the server then rejects every token of the user, so sign out. */
export function useChangePassword() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: ChangePasswordRequest) => changePassword(request),
    onSuccess: () => {
      useSessionStore.getState().signOut(PASSWORD_CHANGED_NOTICE);
      queryClient.clear();
    },
  });
}

/** Accepts an invitation, which signs the new user in. */
export function useAcceptInvite() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: AcceptInviteRequest) => acceptInvite(request),
    onSuccess: (response) => {
      useSessionStore.getState().signIn(response);
      queryClient.clear();
    },
  });
}
