import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { getAlertCounts } from '../api/alerts';
import type { Alert, AlertDetail, AlertList } from '../api/types';
import type { LiveAlert, LiveEvent } from '../live/liveSocket';
import { useLiveFeed, type LiveFeed } from '../live/useLiveFeed';

// Alert data in the query cache, and the live feed that keeps it current: an alert message
// patches the alert wherever it is cached (so a row changes at once) and then marks every
// alert query stale, since a new or changed alert may enter or leave a filtered page.

export const alertKeys = {
  all: ['alerts'] as const,
  lists: ['alerts', 'list'] as const,
  list: (query: object) => ['alerts', 'list', query] as const,
  counts: ['alerts', 'counts'] as const,
  detail: (id: number) => ['alerts', 'detail', id] as const,
};

/** How often the Machines page reads the counts again; it has no live feed of its own. */
export const COUNTS_REFRESH_MS = 30_000;

/** Puts `alert` into every cached list page and detail that holds it. */
export function patchCachedAlert(queryClient: QueryClient, alert: Alert) {
  queryClient.setQueriesData<AlertList>({ queryKey: alertKeys.lists }, (page) =>
    page ? { ...page, items: page.items.map((a) => (a.id === alert.id ? alert : a)) } : page,
  );
  queryClient.setQueryData<AlertDetail>(alertKeys.detail(alert.id), (detail) =>
    detail ? { ...detail, ...alert } : detail,
  );
}

/** Applies alert messages of the live feed to the cache; other messages are ignored. */
export function applyAlertEvents(queryClient: QueryClient, events: readonly LiveEvent[]) {
  const alerts = events.filter((e): e is LiveAlert => e.type === 'alert');
  if (alerts.length === 0) return;
  for (const event of alerts) patchCachedAlert(queryClient, event.alert);
  void queryClient.invalidateQueries({ queryKey: alertKeys.all });
}

/** A live connection that carries only the factory's alert messages, applied to the cache. */
export function useAlertFeed(): LiveFeed {
  const queryClient = useQueryClient();
  const onEvents = useCallback(
    (events: LiveEvent[]) => applyAlertEvents(queryClient, events),
    [queryClient],
  );
  return useLiveFeed({ subscription: null, onEvents });
}

/** `GET /api/v1/alerts/counts`, read again every `refetchMs` when given. */
export function useAlertCounts(refetchMs: number | false = false) {
  return useQuery({
    queryKey: alertKeys.counts,
    queryFn: ({ signal }) => getAlertCounts(signal),
    refetchInterval: refetchMs,
  });
}
