import { useSyncExternalStore } from 'react';

// One shared clock per interval: a hundred "last seen 5 s ago" labels tick on one timer, and
// only the components that show the time render again, not the page around them.

interface Clock {
  now: number;
  subscribe: (notify: () => void) => () => void;
  read: () => number;
}

const clocks = new Map<number, Clock>();

function createClock(intervalMs: number): Clock {
  const listeners = new Set<() => void>();
  let timer: ReturnType<typeof setInterval> | null = null;
  const clock: Clock = {
    now: Date.now(),
    // Stable functions: a new subscribe on every render would restart the timer each time.
    subscribe: (notify) => {
      listeners.add(notify);
      if (timer === null) {
        // The clock slept while nobody watched; bring it up to date before the first tick.
        clock.now = Date.now();
        timer = setInterval(() => {
          clock.now = Date.now();
          listeners.forEach((listener) => listener());
        }, intervalMs);
      }
      return () => {
        listeners.delete(notify);
        if (listeners.size === 0 && timer !== null) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    read: () => clock.now,
  };
  return clock;
}

/** The current time in epoch ms, updated every `intervalMs` while the component is mounted. */
export function useNow(intervalMs = 1_000): number {
  let clock = clocks.get(intervalMs);
  if (!clock) {
    clock = createClock(intervalMs);
    clocks.set(intervalMs, clock);
  }
  return useSyncExternalStore(clock.subscribe, clock.read);
}
