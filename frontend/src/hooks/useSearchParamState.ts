import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/**
 * The address's search params and a setter for one of them. Setting a param to an empty
 * string drops it; changing any param other than `offset` returns to the first page. The
 * history entry is replaced, so filtering does not pile up back-button steps.
 */
export function useSearchParamState() {
  const [params, setParams] = useSearchParams();

  const setParam = useCallback(
    (name: string, value: string) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          if (value === '') next.delete(name);
          else next.set(name, value);
          if (name !== 'offset') next.delete('offset');
          return next;
        },
        { replace: true },
      );
    },
    [setParams],
  );

  return [params, setParam] as const;
}
