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
  /** Why the last session ended, shown once on the sign-in page ("Your session expired…"). */
  notice: string | null;
  /** Stores the tokens of a login, refresh or accepted invitation. */
  signIn: (response: LoginResponse, now?: number) => void;
  signOut: (notice?: string) => void;
  setUser: (user: SessionUser) => void;
  clearNotice: () => void;
}

export const SESSION_STORAGE_KEY = 'factoryops.session';

export const SESSION_EXPIRED_NOTICE = 'Your session has ended. Sign in again to continue.';

export const useSessionStore = create<SessionState>()(
  persist(
    (set) => ({
      session: null,
      notice: null,
      signIn: (response, now = Date.now()) =>
        set({
          session: {
            accessToken: response.access_token,
            refreshToken: response.refresh_token,
            expiresAt: now + response.expires_in * 1000,
            user: response.user,
          },
          notice: null,
        }),
      signOut: (notice) => set({ session: null, notice: notice ?? null }),
      setUser: (user) =>
        set((state) => (state.session ? { session: { ...state.session, user } } : {})),
      clearNotice: () => set({ notice: null }),
    }),
    {
      name: SESSION_STORAGE_KEY,
      storage: createJSONStorage(() => sessionStorage),
      partialize: (state) => ({ session: state.session }),
    },
  ),
);
