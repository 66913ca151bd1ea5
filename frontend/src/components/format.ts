/** "3 d 4 h", "2 h 5 min", "4 min 10 s", "12 s": the two most significant units. */
export function formatUptime(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const units: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3_600), 'h'],
    [Math.floor((s % 3_600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = units.findIndex(([value]) => value > 0);
  if (first === -1) return '0 s';
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(' ');
}

/** A timestamp in the browser's locale, or the raw text when it does not parse. */
export function formatDateTime(value: string | number): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function formatTime(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString();
}

const byteUnits = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** "512 B", "120.6 KiB", "3.4 GiB": binary units, one decimal from KiB on. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  if (value < 1024) return `${Math.round(value)} B`;
  let unit = -1;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.96 KiB would round to "1024.0 KiB"; show it as the next unit instead.
  if (value.toFixed(1) === '1024.0' && unit < byteUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${byteUnits[unit]}`;
}

const countFormat = new Intl.NumberFormat();

/** A count with the browser's digit grouping ("12,345" in English). */
export function formatCount(value: number): string {
  return countFormat.format(value);
}

/** "3 min 5 s ago": how long before `now` the instant was; "just now" within the second. */
export function formatAgo(epochMs: number, now: number): string {
  const seconds = Math.floor((now - epochMs) / 1000);
  return seconds < 1 ? 'just now' : `${formatUptime(seconds)} ago`;
}

const valueFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

/** A measured value in the browser's locale, at most three decimals, with its unit if known. */
export function formatValue(value: number, unit: string | null): string {
  const text = valueFormat.format(value);
  return unit ? `${text} ${unit}` : text;
}
