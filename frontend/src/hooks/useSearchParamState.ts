import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/**
 * The address's search params, a setter for one of them and one for several at once (the
 * router's functional updates do not chain within one event, so related params must change
 * together). Setting a param to an empty string drops it; changing any param other than
 * `offset` returns to the first page. The history entry is replaced, so filtering does not
 * pile up back-button steps.
 */
export function useSearchParamState() {
  const [params, setParams] = useSearchParams();

  const setMany = useCallback(
    (values: Record<string, string>) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [name, value] of Object.entries(values)) {
            if (value === '') next.delete(name);
            else next.set(name, value);
          }
          if (Object.keys(values).some((name) => name !== 'offset')) next.delete('offset');
          return next;
        },
        { replace: true },
      );
    },
    [setParams],
  );

  const setParam = useCallback(
    (name: string, value: string) => setMany({ [name]: value }),
    [setMany],
  );

  return [params, setParam, setMany] as const;
}
