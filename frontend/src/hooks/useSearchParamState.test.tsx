import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { useSearchParamState } from './useSearchParamState';

function renderAt(url: string) {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MemoryRouter initialEntries={[url]}>{children}</MemoryRouter>
  );
  return renderHook(() => useSearchParamState(), { wrapper });
}

describe('useSearchParamState', () => {
  it('sets a param and returns to the first page', () => {
    const { result } = renderAt('/list?search=pump&offset=50');
    act(() => result.current[1]('line', 'A'));
    const [params] = result.current;
    expect(params.get('line')).toBe('A');
    expect(params.get('search')).toBe('pump');
    expect(params.has('offset')).toBe(false);
  });

  it('drops a param set to an empty string', () => {
    const { result } = renderAt('/list?search=pump&line=A');
    act(() => result.current[1]('search', ''));
    const [params] = result.current;
    expect(params.has('search')).toBe(false);
    expect(params.get('line')).toBe('A');
  });

  it('keeps the offset when the offset itself changes', () => {
    const { result } = renderAt('/list?search=pump&offset=50');
    act(() => result.current[1]('offset', '100'));
    const [params] = result.current;
    expect(params.get('offset')).toBe('100');
    expect(params.get('search')).toBe('pump');
  });

  it('sets several params in one step', () => {
    const { result } = renderAt('/list?range=24h&offset=50');
    act(() => result.current[2]({ range: 'custom', from: 'a', to: 'b' }));
    const [params] = result.current;
    expect(params.get('range')).toBe('custom');
    expect(params.get('from')).toBe('a');
    expect(params.get('to')).toBe('b');
    expect(params.has('offset')).toBe(false);
  });
});
