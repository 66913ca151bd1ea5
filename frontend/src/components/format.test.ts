import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatUptime, formatValue } from './format';

describe('formatUptime', () => {
  it.each([
    [0, '0 s'],
    [12, '12 s'],
    [60, '1 min'],
    [250, '4 min 10 s'],
    [3_725, '1 h 2 min'],
    [7_200, '2 h'],
    [90_061, '1 d 1 h'],
    [86_400 + 59, '1 d'],
    [-5, '0 s'],
  ])('formats %i seconds as "%s"', (seconds, text) => {
    expect(formatUptime(seconds)).toBe(text);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1_023, '1023 B'],
    [1_024, '1.0 KiB'],
    [123_456, '120.6 KiB'],
    [1_048_575, '1.0 MiB'],
    [5 * 1024 ** 3 + 300 * 1024 ** 2, '5.3 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
  ])('formats %i bytes as "%s"', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatAgo', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it.each([
    [now, 'just now'],
    [now - 999, 'just now'],
    [now + 5_000, 'just now'],
    [now - 1_000, '1 s ago'],
    [now - 250_000, '4 min 10 s ago'],
    [now - 3_725_000, '1 h 2 min ago'],
  ])('formats %i as "%s"', (at, text) => {
    expect(formatAgo(at, now)).toBe(text);
  });
});

describe('formatValue', () => {
  it('keeps at most three decimals and appends the unit', () => {
    expect(formatValue(12.34567, 'kW')).toBe(`${(12.346).toLocaleString()} kW`);
    expect(formatValue(3, null)).toBe('3');
  });
});
