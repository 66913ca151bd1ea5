import type { RetentionUpdate, TelemetryRetention } from '../api/types';

// The retention form's rules: the same ranges the server enforces (PATCH
// /api/v1/telemetry/retention, docs/api-telemetry.md), so a bad value is caught before sending.

export const retentionLimits = {
  raw_days: { min: 183, max: 366 },
  rollup_days: { min: 730, max: 1826 },
} as const;

export type RetentionField = keyof typeof retentionLimits;

export interface RetentionFields {
  raw_days: string;
  rollup_days: string;
}

const fieldNames: Record<RetentionField, string> = {
  raw_days: 'Raw points',
  rollup_days: 'Rollups',
};

export function retentionFields(retention: TelemetryRetention): RetentionFields {
  return { raw_days: String(retention.raw_days), rollup_days: String(retention.rollup_days) };
}

function checkDays(field: RetentionField, text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return 'Enter a number of days.';
  if (!/^\d+$/.test(trimmed)) return 'Enter a whole number of days.';
  const { min, max } = retentionLimits[field];
  const days = Number(trimmed);
  if (days < min || days > max) {
    return `${fieldNames[field]} can be kept from ${min} to ${max} days.`;
  }
  return undefined;
}

export function validateRetention(
  fields: RetentionFields,
): Partial<Record<RetentionField, string>> {
  const errors: Partial<Record<RetentionField, string>> = {};
  for (const field of Object.keys(retentionLimits) as RetentionField[]) {
    const error = checkDays(field, fields[field]);
    if (error) errors[field] = error;
  }
  return errors;
}

/**
 * The PATCH body for valid fields: only the settings that differ from those in force, so a
 * setting that follows the server's default keeps following it.
 */
export function retentionUpdate(
  fields: RetentionFields,
  current: TelemetryRetention,
): RetentionUpdate {
  const update: RetentionUpdate = {};
  for (const field of Object.keys(retentionLimits) as RetentionField[]) {
    const days = Number(fields[field].trim());
    if (days !== current[field]) update[field] = days;
  }
  return update;
}

/**
 * The settings `update` would shorten, with their new number of days: data older than that
 * is deleted at the next retention run. `null` stands for the server's default.
 */
export function shortenedBy(
  update: RetentionUpdate,
  current: TelemetryRetention,
): Partial<Record<RetentionField, number>> {
  const shorter: Partial<Record<RetentionField, number>> = {};
  const next = {
    raw_days: update.raw_days === null ? current.raw_days_default : update.raw_days,
    rollup_days: update.rollup_days === null ? current.rollup_days_default : update.rollup_days,
  };
  for (const field of Object.keys(retentionLimits) as RetentionField[]) {
    const days = next[field];
    if (days !== undefined && days < current[field]) shorter[field] = days;
  }
  return shorter;
}
