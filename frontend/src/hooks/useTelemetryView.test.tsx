import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter, useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { rangeProblem, useTelemetryView } from './useTelemetryView';

const HOUR = 3_600_000;

function renderAt(url: string) {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MemoryRouter initialEntries={[url]}>{children}</MemoryRouter>
  );
  return renderHook(() => ({ view: useTelemetryView(), location: useLocation() }), { wrapper });
}

describe('useTelemetryView', () => {
  it('defaults to the last 24 hours of averages of the KPI selection', () => {
    const before = Date.now();
    const { result } = renderAt('/machines/m');
    const { view } = result.current;
    expect(view.range).toBe('24h');
    expect(view.to - view.from).toBe(24 * HOUR);
    expect(view.to).toBeGreaterThanOrEqual(before);
    expect(view.agg).toBe('avg');
    expect(view.params).toBeNull();
  });

  it('reads a shared view from the address', () => {
    const { result } = renderAt(
      '/m?range=custom&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&agg=max&params=a,b',
    );
    const { view } = result.current;
    expect(view.range).toBe('custom');
    expect(view.from).toBe(Date.UTC(2026, 10, 1));
    expect(view.to).toBe(Date.UTC(2026, 10, 2));
    expect(view.agg).toBe('max');
    expect(view.params).toEqual(['a', 'b']);
  });

  it('ignores a broken address instead of querying it', () => {
    const { result } = renderAt(
      '/m?range=custom&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z&agg=median',
    );
    const { view } = result.current;
    expect(view.range).toBe('24h');
    expect(view.agg).toBe('avg');
  });

  it('writes presets and custom ranges to the address, leaving defaults out', () => {
    const { result } = renderAt(
      '/m?range=custom&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z',
    );
    act(() => result.current.view.setPreset('7d'));
    expect(result.current.location.search).toBe('?range=7d');
    expect(result.current.view.to - result.current.view.from).toBe(7 * 24 * HOUR);

    act(() => result.current.view.setAgg('min'));
    act(() => result.current.view.setPreset('24h'));
    expect(result.current.location.search).toBe('?agg=min');

    act(() => result.current.view.setCustom(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2)));
    const search = new URLSearchParams(result.current.location.search);
    expect(search.get('range')).toBe('custom');
    expect(search.get('from')).toBe('2026-01-01T00:00:00.000Z');
    expect(search.get('to')).toBe('2026-01-02T00:00:00.000Z');
    expect(result.current.view.from).toBe(Date.UTC(2026, 0, 1));
  });

  it('explains why a custom range cannot be queried', () => {
    expect(rangeProblem(null, 1)).toBe('Enter a valid start time.');
    expect(rangeProblem(1, null)).toBe('Enter a valid end time.');
    expect(rangeProblem(5, 5)).toBe('The start must be before the end.');
    expect(rangeProblem(6, 5)).toBe('The start must be before the end.');
    expect(rangeProblem(0, 6 * 365 * 24 * HOUR)).toBe('A range can span at most 5 years.');
    expect(rangeProblem(0, HOUR)).toBeNull();
  });
});
