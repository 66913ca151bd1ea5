// React binding of the live feed: one LiveSocket per mounted user, authenticated with the
// session's access token and renewed through the same single-flight refresh as the HTTP
// client. Events reach the caller in batches, at most one batch per `flushMs`, so a busy
// factory costs a few renders a second however many readings arrive.

import { useEffect, useRef, useState } from 'react';
import { REFRESH_MARGIN_MS, refreshSession } from '../api/client';
import { useSessionStore } from '../stores/session';
import {
  LiveSocket,
  liveUrl,
  type LiveConnectionState,
  type LiveEvent,
  type LiveServerError,
  type LiveSubscription,
} from './liveSocket';

/** Default batching: at most four deliveries, and so four renders, a second. */
export const LIVE_FLUSH_MS = 250;

export interface UseLiveFeedOptions {
  /** Null: no readings, only the factory's alert messages. */
  subscription: LiveSubscription | null;
  /** Receives every event since the previous call, oldest first. */
  onEvents: (events: LiveEvent[]) => void;
  /** False keeps the feed closed (state `stopped`). */
  enabled?: boolean;
  flushMs?: number;
}

export interface LiveFeed {
  state: LiveConnectionState;
  /** The last `error` message of the server on this connection, if any. */
  serverError: LiveServerError | null;
}

/** The session's access token, renewed first when it is about to expire. */
export async function sessionToken(): Promise<string | null> {
  const session = useSessionStore.getState().session;
  if (!session) return null;
  if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    return (await refreshSession()).accessToken;
  }
  return session.accessToken;
}

/**
 * A token to replace `rejected`. When a request of the HTTP client already renewed the session
 * meanwhile, its token is used as it is; otherwise the session is refreshed (which signs the
 * user out when that fails).
 */
export async function renewedSessionToken(rejected: string): Promise<string | null> {
  const session = useSessionStore.getState().session;
  if (!session) return null;
  if (session.accessToken !== rejected) return session.accessToken;
  return (await refreshSession()).accessToken;
}

export function useLiveFeed({
  subscription,
  onEvents,
  enabled = true,
  flushMs = LIVE_FLUSH_MS,
}: UseLiveFeedOptions): LiveFeed {
  const [state, setState] = useState<LiveConnectionState>(enabled ? 'connecting' : 'stopped');
  const [serverError, setServerError] = useState<LiveServerError | null>(null);
  const deliver = useRef(onEvents);
  useEffect(() => {
    deliver.current = onEvents;
  });

  // The subscription is compared by value, so a caller may build it inline.
  const subscriptionKey = JSON.stringify(subscription);

  useEffect(() => {
    if (!enabled) return;
    let pending: LiveEvent[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      flushTimer = null;
      const batch = pending;
      pending = [];
      if (batch.length > 0) deliver.current(batch);
    };
    const socket = new LiveSocket({
      url: liveUrl(),
      subscription: JSON.parse(subscriptionKey) as LiveSubscription | null,
      getToken: sessionToken,
      refreshToken: renewedSessionToken,
      onEvent: (event) => {
        pending.push(event);
        flushTimer ??= setTimeout(flush, flushMs);
      },
      onStateChange: (next) => {
        setState(next);
        if (next === 'live') setServerError(null);
      },
      onServerError: setServerError,
    });
    socket.start();
    return () => {
      socket.stop();
      if (flushTimer !== null) clearTimeout(flushTimer);
    };
  }, [enabled, subscriptionKey, flushMs]);

  return { state: enabled ? state : 'stopped', serverError };
}
