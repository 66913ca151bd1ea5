import { useMutation, useQueryClient } from '@tanstack/react-query';
import { login } from '../api/auth';
import type { LoginRequest } from '../api/types';
import { useSessionStore } from '../stores/session';

/** Signs in and stores the session; cached server data of the anonymous visitor is dropped. */
export function useLogin() {
  const queryClient = useQueryClient();
  const signIn = useSessionStore((state) => state.signIn);
  return useMutation({
    mutationFn: (credentials: LoginRequest) => login(credentials),
    onSuccess: (response) => {
      signIn(response);
      queryClient.clear();
    },
  });
}
