import { describe, expect, it } from 'vitest';
import { displayZone, fromWallClock, isValidTimeZone, toWallClock } from './timeZone';

describe('timeZone', () => {
  it('reads a wall-clock time in the given zone', () => {
    expect(fromWallClock('2026-11-27T15:30', 'Asia/Kolkata')).toBe(Date.UTC(2026, 10, 27, 10, 0));
    expect(fromWallClock('2026-11-27T10:00', 'UTC')).toBe(Date.UTC(2026, 10, 27, 10, 0));
    expect(fromWallClock('2026-07-01T12:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 10, 0));
    expect(fromWallClock('2026-01-01T12:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 0, 1, 11, 0));
  });

  it('writes an instant as wall-clock time, and back', () => {
    const instant = Date.UTC(2026, 2, 29, 0, 30);
    expect(toWallClock(instant, 'Europe/Berlin')).toBe('2026-03-29T01:30');
    expect(toWallClock(instant + 3_600_000, 'Europe/Berlin')).toBe('2026-03-29T03:30');
    for (const zone of ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC']) {
      const text = toWallClock(instant, zone);
      expect(fromWallClock(text, zone)).toBe(instant);
    }
  });

  it('moves a time skipped by the spring DST change past the gap', () => {
    // 02:30 does not exist in Berlin on 2026-03-29; 03:30 CEST is 01:30 UTC.
    expect(fromWallClock('2026-03-29T02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30));
  });

  it('rejects text that is not a date and time', () => {
    expect(fromWallClock('', 'UTC')).toBeNull();
    expect(fromWallClock('2026-02-30T10:00', 'UTC')).toBeNull();
    expect(fromWallClock('yesterday', 'UTC')).toBeNull();
  });

  it("uses the factory's zone only when it is a real one", () => {
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(displayZone('Asia/Kolkata')).toEqual({ zone: 'Asia/Kolkata', isFactory: true });
    expect(displayZone('Mars/Olympus').isFactory).toBe(false);
    expect(displayZone(null)).toEqual({
      zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      isFactory: false,
    });
  });
});
