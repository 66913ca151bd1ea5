import { describe, expect, it } from 'vitest';
import { formatUptime } from './format';

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
