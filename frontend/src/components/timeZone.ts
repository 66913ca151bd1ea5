// Times on charts are shown in the factory's timezone when the server names a valid one, so
// everyone looking at a machine sees the same shift boundaries; otherwise in the browser's.

/** The browser's IANA timezone, e.g. "Europe/Berlin". */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function isValidTimeZone(zone: string | null | undefined): zone is string {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Which zone to display times in, and whether it is the factory's. */
export interface DisplayZone {
  zone: string;
  isFactory: boolean;
}

export function displayZone(factoryZone: string | null | undefined): DisplayZone {
  return isValidTimeZone(factoryZone)
    ? { zone: factoryZone, isFactory: true }
    : { zone: browserTimeZone(), isFactory: false };
}

/** The sentence under a chart that says which zone its times are in, and why. */
export function zoneNote(zone: DisplayZone): string {
  return zone.isFactory
    ? `Times in ${zone.zone}, the factory's timezone.`
    : `Times in ${zone.zone}, your browser's timezone (the factory's is not known).`;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function wallClockParts(epochMs: number, zone: string) {
  let formatter = partsFormatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(zone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(epochMs)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
}

/** Offset of `zone` from UTC at the instant `epochMs`, in milliseconds. */
function zoneOffsetMs(epochMs: number, zone: string): number {
  const p = wallClockParts(epochMs, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The `YYYY-MM-DDTHH:mm` of a `datetime-local` input for the instant `epochMs` in `zone`. */
export function toWallClock(epochMs: number, zone: string): string {
  const p = wallClockParts(epochMs, zone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/**
 * The instant a `YYYY-MM-DDTHH:mm` wall-clock time in `zone` names, or null when the text is
 * not such a time. A time skipped by a DST change resolves to the instant after the gap.
 */
export function fromWallClock(text: string, zone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(asUtc);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  // Two rounds settle the offset, also next to a DST change.
  let guess = asUtc - zoneOffsetMs(asUtc, zone);
  guess = asUtc - zoneOffsetMs(guess, zone);
  return guess;
}

/** Axis ticks: the coarser the range, the less of the time is worth showing. */
export function tickFormatter(spanMs: number, zone: string): (epochMs: number) => string {
  const day = 86_400_000;
  const options: Intl.DateTimeFormatOptions =
    spanMs <= day
      ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : spanMs <= 8 * day
        ? { weekday: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : spanMs <= 400 * day
          ? { month: 'short', day: 'numeric' }
          : { year: 'numeric', month: 'short' };
  const formatter = new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone });
  return (epochMs) => formatter.format(epochMs);
}

/** A full date and time in `zone`, for tooltips and lists. */
export function formatInZone(epochMs: number, zone: string): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone,
    dateStyle: 'medium',
    timeStyle: 'medium',
  }).format(epochMs);
}
