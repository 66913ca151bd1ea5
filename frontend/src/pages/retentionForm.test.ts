import { describe, expect, it } from 'vitest';
import { retentionUpdate, shortenedBy, validateRetention } from './retentionForm';

const current = {
  raw_days: 200,
  rollup_days: 730,
  raw_days_default: 183,
  rollup_days_default: 730,
  overridden: true,
};

describe('validateRetention', () => {
  it('accepts both ends of the server ranges', () => {
    expect(validateRetention({ raw_days: '183', rollup_days: '1826' })).toEqual({});
    expect(validateRetention({ raw_days: ' 366 ', rollup_days: '730' })).toEqual({});
  });

  it.each([
    ['182', 'Raw points can be kept from 183 to 366 days.'],
    ['367', 'Raw points can be kept from 183 to 366 days.'],
    ['', 'Enter a number of days.'],
    ['200.5', 'Enter a whole number of days.'],
    ['-200', 'Enter a whole number of days.'],
    ['1e3', 'Enter a whole number of days.'],
  ])('rejects raw days %j', (text, message) => {
    expect(validateRetention({ raw_days: text, rollup_days: '730' })).toEqual({
      raw_days: message,
    });
  });

  it.each(['729', '1827'])('rejects rollup days %s', (text) => {
    expect(validateRetention({ raw_days: '183', rollup_days: text })).toEqual({
      rollup_days: 'Rollups can be kept from 730 to 1826 days.',
    });
  });
});

describe('retentionUpdate', () => {
  it('sends only the settings that change', () => {
    expect(retentionUpdate({ raw_days: '250', rollup_days: '730' }, current)).toEqual({
      raw_days: 250,
    });
    expect(retentionUpdate({ raw_days: '200', rollup_days: '730' }, current)).toEqual({});
  });
});

describe('shortenedBy', () => {
  it('names the settings that would delete data, defaults included', () => {
    expect(shortenedBy({ raw_days: 190, rollup_days: 800 }, current)).toEqual({ raw_days: 190 });
    expect(shortenedBy({ raw_days: 300 }, current)).toEqual({});
    expect(shortenedBy({ raw_days: null, rollup_days: null }, current)).toEqual({ raw_days: 183 });
  });
});
