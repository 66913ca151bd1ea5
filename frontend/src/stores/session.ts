import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { LoginResponse, SessionUser } from '../api/types';

/**
 * The signed-in user's tokens. Kept in sessionStorage so a session ends with the browser tab
 * and is never shared with other tabs of a shared control-room machine.
 */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds after which the access token is no longer accepted. */
  expiresAt: number;
  user: SessionUser;
}

interface SessionState {
  session: Session | null;
  signIn: (response: LoginResponse, now?: number) => void;
  signOut: () => void;
}

export const SESSION_STORAGE_KEY = 'factoryops.session';

export const useSessionStore = create<SessionState>()(
  persist(
    (set) => ({
      session: null,
      signIn: (response, now = Date.now()) =>
        set({
          session: {
            accessToken: response.access_token,
            refreshToken: response.refresh_token,
            expiresAt: now + response.expires_in * 1000,
            user: response.user,
          },
        }),
      signOut: () => set({ session: null }),
    }),
    {
      name: SESSION_STORAGE_KEY,
      storage: createJSONStorage(() => sessionStorage),
      partialize: (state) => ({ session: state.session }),
    },
  ),
);
