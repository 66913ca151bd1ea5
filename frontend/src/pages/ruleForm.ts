import type { ApiError } from '../api/errors';
import type {
  ComparisonOp,
  ConditionKind,
  Rule,
  RuleCondition,
  RuleDraft,
  RuleScope,
  Severity,
  WeekDay,
  WindowFunction,
} from '../api/types';
import { formatUptime } from '../components/format';

// The rule form's state, its checks and its conversion to the rule JSON of docs/rules.md. The
// checks mirror the server's limits so a mistake shows while typing; errors are keyed by the
// server's field paths ("conditions[1].threshold"), so the server's own refusal lands under
// the same field as the form's.

export const MAX_CONDITIONS = 4;
export const NAME_MAX = 120;
export const DESCRIPTION_MAX = 1000;
export const MAX_SCOPE_DEVICES = 1000;
export const SCOPE_TEXT_MAX = 100;
export const MAX_EMAILS = 20;
export const MAX_WHATSAPP = 10;
export const WINDOW_MINUTES_MAX = 1440;
export const DURATION_MAX = 86_400;
export const COOLDOWN_MAX = 604_800;
export const REPEAT_MIN = 60;

export type ScopeKind = RuleScope['kind'];

/** One condition as typed: every kind's fields, so switching kinds keeps what was entered. */
export interface ConditionFields {
  kind: ConditionKind;
  parameter: string;
  op: ComparisonOp;
  threshold: string;
  clear_threshold: string;
  low: string;
  high: string;
  function: WindowFunction;
  minutes: string;
}

export interface RuleFields {
  name: string;
  description: string;
  severity: Severity;
  enabled: boolean;
  scopeKind: ScopeKind;
  deviceIds: string[];
  deviceType: string;
  line: string;
  logic: 'and' | 'or';
  conditions: ConditionFields[];
  duration: string;
  clearAfter: string;
  cooldown: string;
  repeat: string;
  scheduled: boolean;
  days: WeekDay[];
  start: string;
  end: string;
  timezone: string;
  emails: string;
  whatsapp: string;
  inApp: boolean;
}

/** Errors by the server's field path, e.g. `name`, `conditions[0].threshold`, `channels.email`. */
export type RuleErrors = Record<string, string>;

export const emptyCondition: ConditionFields = {
  kind: 'threshold',
  parameter: '',
  op: '>',
  threshold: '',
  clear_threshold: '',
  low: '',
  high: '',
  function: 'avg',
  minutes: '15',
};

export const emptyRule: RuleFields = {
  name: '',
  description: '',
  severity: 'warning',
  enabled: true,
  scopeKind: 'all',
  deviceIds: [],
  deviceType: '',
  line: '',
  logic: 'and',
  conditions: [emptyCondition],
  duration: '0',
  clearAfter: '60',
  cooldown: '300',
  repeat: '0',
  scheduled: false,
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '06:00',
  end: '22:00',
  timezone: '',
  emails: '',
  whatsapp: '',
  inApp: true,
};

const text = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

function conditionFields(condition: RuleCondition): ConditionFields {
  const fields: ConditionFields = {
    ...emptyCondition,
    kind: condition.kind,
    parameter: condition.parameter ?? '',
  };
  switch (condition.kind) {
    case 'threshold':
    case 'rate':
      return {
        ...fields,
        op: condition.op,
        threshold: text(condition.threshold),
        clear_threshold: text(condition.clear_threshold),
      };
    case 'between':
    case 'outside':
      return { ...fields, low: text(condition.low), high: text(condition.high) };
    case 'window':
      return {
        ...fields,
        function: condition.function,
        minutes: text(condition.minutes),
        op: condition.op,
        threshold: text(condition.threshold),
        clear_threshold: text(condition.clear_threshold),
      };
    case 'no_data':
      return { ...fields, minutes: text(condition.minutes) };
  }
}

/** The form holding a stored rule. */
export function ruleFields(rule: Rule): RuleFields {
  const scope = rule.scope;
  return {
    name: rule.name,
    description: rule.description,
    severity: rule.severity,
    enabled: rule.enabled,
    scopeKind: scope.kind,
    deviceIds: scope.kind === 'devices' ? [...scope.device_ids] : [],
    deviceType: scope.kind === 'type' ? scope.device_type : '',
    line: scope.kind === 'line' ? scope.line : '',
    logic: rule.logic,
    conditions: rule.conditions.map(conditionFields),
    duration: text(rule.duration_seconds),
    clearAfter: text(rule.clear_after_seconds),
    cooldown: text(rule.cooldown_seconds),
    repeat: text(rule.repeat_seconds ?? 0),
    scheduled: rule.schedule !== null,
    days: rule.schedule ? [...rule.schedule.days] : emptyRule.days,
    start: rule.schedule?.start ?? emptyRule.start,
    end: rule.schedule?.end ?? emptyRule.end,
    timezone: rule.schedule?.timezone ?? '',
    emails: rule.channels.email.join('\n'),
    whatsapp: rule.channels.whatsapp.join('\n'),
    inApp: rule.channels.in_app,
  };
}

/** Entries of a one-per-line (or comma separated) list, blanks dropped. */
export function listEntries(value: string): string[] {
  return value
    .split(/[\n,;]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

const METRIC_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** E.164 as the server takes it: '+', a non-zero digit, then 7 to 14 more digits. */
export const E164 = /^\+[1-9]\d{7,14}$/;
const CLOCK = /^(\d\d):(\d\d)$/;

function numberOf(value: string): number | null {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

function wholeOf(value: string): number | null {
  const trimmed = value.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

/** Minutes since midnight of "HH:MM" (00:00 to 24:00), or null. */
export function clockMinutes(value: string): number | null {
  const match = CLOCK.exec(value.trim());
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes !== 0)) return null;
  return hours * 60 + minutes;
}

const usesThreshold = (kind: ConditionKind) =>
  kind === 'threshold' || kind === 'window' || kind === 'rate';
const usesBounds = (kind: ConditionKind) => kind === 'between' || kind === 'outside';
const usesMinutes = (kind: ConditionKind) => kind === 'window' || kind === 'no_data';

function checkCondition(field: string, c: ConditionFields, errors: RuleErrors) {
  const at = (key: string) => `${field}.${key}`;
  const parameter = c.parameter.trim();
  if (parameter === '') {
    if (c.kind !== 'no_data') errors[at('parameter')] = 'Enter the parameter to watch.';
  } else if (!METRIC_KEY.test(parameter)) {
    errors[at('parameter')] = 'Use 1 to 64 letters, digits, "_", "." or "-", e.g. power_kw.';
  }
  if (usesThreshold(c.kind)) {
    const threshold = numberOf(c.threshold);
    if (threshold === null) errors[at('threshold')] = 'Enter a number.';
    if (c.clear_threshold.trim() !== '') {
      const clear = numberOf(c.clear_threshold);
      if (clear === null) errors[at('clear_threshold')] = 'Enter a number, or leave it empty.';
      else if (c.op === '==' || c.op === '!=')
        errors[at('clear_threshold')] = 'A clear threshold applies to > >= < <= only.';
      else if (threshold !== null && (c.op === '>' || c.op === '>=') && clear > threshold)
        errors[at('clear_threshold')] = `Must not be above the threshold (${threshold}).`;
      else if (threshold !== null && (c.op === '<' || c.op === '<=') && clear < threshold)
        errors[at('clear_threshold')] = `Must not be below the threshold (${threshold}).`;
    }
  }
  if (usesBounds(c.kind)) {
    const low = numberOf(c.low);
    const high = numberOf(c.high);
    if (low === null) errors[at('low')] = 'Enter a number.';
    if (high === null) errors[at('high')] = 'Enter a number.';
    else if (low !== null && !(low < high)) errors[at('high')] = 'Must be greater than low.';
  }
  if (usesMinutes(c.kind)) {
    const minutes = wholeOf(c.minutes);
    if (minutes === null || minutes < 1 || minutes > WINDOW_MINUTES_MAX)
      errors[at('minutes')] = `Enter whole minutes from 1 to ${WINDOW_MINUTES_MAX} (24 h).`;
  }
}

function checkSeconds(errors: RuleErrors, field: string, value: string, max: number) {
  const n = wholeOf(value);
  if (n === null || n > max) errors[field] = `Enter whole seconds from 0 to ${max}.`;
}

/** Every problem of the form, keyed by the server's field path; empty when it can be sent. */
export function validateRule(f: RuleFields): RuleErrors {
  const errors: RuleErrors = {};
  const name = f.name.trim();
  if (name === '') errors.name = 'Enter a name.';
  else if ([...f.name].length > NAME_MAX) errors.name = `Use at most ${NAME_MAX} characters.`;
  if ([...f.description].length > DESCRIPTION_MAX)
    errors.description = `Use at most ${DESCRIPTION_MAX} characters.`;

  if (f.scopeKind === 'devices') {
    if (f.deviceIds.length === 0) errors['scope.device_ids'] = 'Pick at least one machine.';
    else if (f.deviceIds.length > MAX_SCOPE_DEVICES)
      errors['scope.device_ids'] = `Pick at most ${MAX_SCOPE_DEVICES} machines.`;
  } else if (f.scopeKind === 'type' || f.scopeKind === 'line') {
    const field = f.scopeKind === 'type' ? 'scope.device_type' : 'scope.line';
    const value = f.scopeKind === 'type' ? f.deviceType : f.line;
    if (value.trim() === '')
      errors[field] = f.scopeKind === 'type' ? 'Enter a machine type.' : 'Enter a line.';
    else if ([...value].length > SCOPE_TEXT_MAX)
      errors[field] = `Use at most ${SCOPE_TEXT_MAX} characters.`;
  }

  if (f.conditions.length === 0) errors.conditions = 'Add at least one condition.';
  else if (f.conditions.length > MAX_CONDITIONS)
    errors.conditions = `Use at most ${MAX_CONDITIONS} conditions.`;
  f.conditions.forEach((c, i) => checkCondition(`conditions[${i}]`, c, errors));

  checkSeconds(errors, 'duration_seconds', f.duration, DURATION_MAX);
  checkSeconds(errors, 'clear_after_seconds', f.clearAfter, DURATION_MAX);
  checkSeconds(errors, 'cooldown_seconds', f.cooldown, COOLDOWN_MAX);
  const repeat = wholeOf(f.repeat);
  if (repeat === null || (repeat !== 0 && (repeat < REPEAT_MIN || repeat > COOLDOWN_MAX)))
    errors.repeat_seconds = `Enter 0 (never) or whole seconds from ${REPEAT_MIN} to ${COOLDOWN_MAX}.`;

  if (f.scheduled) {
    if (f.days.length === 0) errors['schedule.days'] = 'Pick at least one day.';
    const start = clockMinutes(f.start);
    const end = clockMinutes(f.end);
    if (start === null || start >= 1440)
      errors['schedule.start'] = 'Enter a time from 00:00 to 23:59, such as 06:00.';
    if (end === null || end === 0)
      errors['schedule.end'] = 'Enter a time from 00:01 to 24:00, such as 22:00.';
    else if (start !== null && end === start)
      errors['schedule.end'] = 'Must differ from the start.';
  }

  const emails = listEntries(f.emails);
  if (emails.length > MAX_EMAILS)
    errors['channels.email'] = `List at most ${MAX_EMAILS} addresses.`;
  else {
    const bad = emails.find((e) => !EMAIL.test(e));
    const lower = emails.map((e) => e.toLowerCase());
    const twice = lower.find((e, i) => lower.indexOf(e) !== i);
    if (bad) errors['channels.email'] = `"${bad}" is not an email address.`;
    else if (twice) errors['channels.email'] = `${twice} is listed twice.`;
  }
  const numbers = listEntries(f.whatsapp);
  if (numbers.length > MAX_WHATSAPP)
    errors['channels.whatsapp'] = `List at most ${MAX_WHATSAPP} numbers.`;
  else {
    const bad = numbers.find((n) => !E164.test(n));
    const twice = numbers.find((n, i) => numbers.indexOf(n) !== i);
    if (bad)
      errors['channels.whatsapp'] =
        `"${bad}" is not in E.164 form: "+", country code and number, no spaces (e.g. +4915112345678).`;
    else if (twice) errors['channels.whatsapp'] = `${twice} is listed twice.`;
  }
  return errors;
}

function toCondition(c: ConditionFields): RuleCondition {
  const parameter = c.parameter.trim();
  const clear = c.clear_threshold.trim() === '' ? undefined : Number(c.clear_threshold);
  const withClear = <T extends object>(body: T) =>
    clear === undefined ? body : { ...body, clear_threshold: clear };
  switch (c.kind) {
    case 'threshold':
    case 'rate':
      return withClear({ kind: c.kind, parameter, op: c.op, threshold: Number(c.threshold) });
    case 'between':
    case 'outside':
      return { kind: c.kind, parameter, low: Number(c.low), high: Number(c.high) };
    case 'window':
      return withClear({
        kind: 'window' as const,
        parameter,
        function: c.function,
        minutes: Number(c.minutes),
        op: c.op,
        threshold: Number(c.threshold),
      });
    case 'no_data':
      return parameter === ''
        ? { kind: 'no_data', minutes: Number(c.minutes) }
        : { kind: 'no_data', minutes: Number(c.minutes), parameter };
  }
}

function toScope(f: RuleFields): RuleScope {
  switch (f.scopeKind) {
    case 'all':
      return { kind: 'all' };
    case 'devices':
      return { kind: 'devices', device_ids: [...f.deviceIds] };
    case 'type':
      return { kind: 'type', device_type: f.deviceType.trim() };
    case 'line':
      return { kind: 'line', line: f.line.trim() };
  }
}

/** The rule JSON of a valid form: only the fields each part uses, as the server requires. */
export function toDraft(f: RuleFields): RuleDraft {
  const schedule = f.scheduled
    ? {
        // In the order of the week, whatever order they were ticked in.
        days: (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as WeekDay[]).filter((d) =>
          f.days.includes(d),
        ),
        start: f.start.trim(),
        end: f.end.trim(),
        ...(f.timezone.trim() === '' ? {} : { timezone: f.timezone.trim() }),
      }
    : null;
  return {
    name: f.name.trim(),
    description: f.description.trim(),
    severity: f.severity,
    enabled: f.enabled,
    scope: toScope(f),
    logic: f.logic,
    conditions: f.conditions.map(toCondition),
    duration_seconds: Number(f.duration),
    clear_after_seconds: Number(f.clearAfter),
    cooldown_seconds: Number(f.cooldown),
    repeat_seconds: Number(f.repeat),
    schedule,
    channels: {
      email: listEntries(f.emails).map((e) => e.toLowerCase()),
      whatsapp: listEntries(f.whatsapp),
      in_app: f.inApp,
    },
  };
}

/** The field paths the form shows errors under; list entries point at their list. */
const formFields = new Set([
  'name',
  'description',
  'severity',
  'scope.kind',
  'scope.device_ids',
  'scope.device_type',
  'scope.line',
  'logic',
  'conditions',
  'duration_seconds',
  'clear_after_seconds',
  'cooldown_seconds',
  'repeat_seconds',
  'schedule',
  'schedule.days',
  'schedule.start',
  'schedule.end',
  'schedule.timezone',
  'channels',
  'channels.email',
  'channels.whatsapp',
  'channels.in_app',
]);
const conditionField =
  /^conditions\[(\d+)\]\.(kind|parameter|op|threshold|clear_threshold|low|high|function|minutes)$/;
const fieldPath = /^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*$/;

/**
 * The form field a server refusal names, or null. The field comes from the error body, or
 * from the start of its message ("conditions[1].threshold: must be a number"), as the rules
 * API words every validation error.
 */
export function serverErrorField(error: ApiError | null | undefined): string | null {
  if (!error || (error.status !== 400 && error.status !== 422)) return null;
  let path = error.field;
  if (!path) {
    const colon = error.message.indexOf(': ');
    const head = colon > 0 ? error.message.slice(0, colon) : '';
    path = fieldPath.test(head) ? head : null;
  }
  if (!path) return null;
  if (conditionField.test(path)) return path;
  if (/^conditions\[\d+\]$/.test(path)) return path.replace(/\]$/, '].kind');
  // scope.device_ids[2], schedule.days[0], channels.whatsapp[1]: shown under the list.
  const list = path.replace(/\[\d+\]$/, '');
  return formFields.has(list) ? list : null;
}

/** The form's own errors plus the server's refusal under the field it names. */
export function withServerError(
  errors: RuleErrors,
  error: ApiError | null | undefined,
): { errors: RuleErrors; general: ApiError | null } {
  if (!error) return { errors, general: null };
  const field = serverErrorField(error);
  if (field) return { errors: { [field]: error.message, ...errors }, general: null };
  if (error.status === 409) return { errors: { name: error.message, ...errors }, general: null };
  return { errors, general: error };
}

/** "15 min", "1 h 30 min", "0 s". */
export const formatSeconds = (seconds: number) => formatUptime(seconds);

const numberText = (n: number) => String(n);

/** One condition in words, e.g. "power_kw > 75" or "avg(power_kw, 15 min) > 75". */
export function conditionSummary(c: RuleCondition): string {
  switch (c.kind) {
    case 'threshold':
      return `${c.parameter} ${c.op} ${numberText(c.threshold)}`;
    case 'rate':
      return `change of ${c.parameter} ${c.op} ${numberText(c.threshold)}/min`;
    case 'between':
      return `${c.parameter} between ${numberText(c.low)} and ${numberText(c.high)}`;
    case 'outside':
      return `${c.parameter} outside ${numberText(c.low)}…${numberText(c.high)}`;
    case 'window':
      return `${c.function}(${c.parameter}, ${c.minutes} min) ${c.op} ${numberText(c.threshold)}`;
    case 'no_data':
      return c.parameter
        ? `no ${c.parameter} for ${c.minutes} min`
        : `no data for ${c.minutes} min`;
  }
}

/** The rule's conditions in words, joined by its logic, with its duration: "power_kw > 75 for 5 min". */
export function ruleConditionSummary(
  rule: Pick<RuleDraft, 'conditions' | 'logic' | 'duration_seconds'>,
) {
  const joined = rule.conditions
    .map(conditionSummary)
    .join(rule.logic === 'and' ? ' AND ' : ' OR ');
  return rule.duration_seconds > 0
    ? `${joined} for ${formatSeconds(rule.duration_seconds)}`
    : joined;
}

/** Which machines a rule watches, in words. */
export function scopeSummary(scope: RuleScope): string {
  switch (scope.kind) {
    case 'all':
      return 'All machines';
    case 'devices':
      return scope.device_ids.length === 1
        ? scope.device_ids[0]!
        : `${scope.device_ids.length} machines`;
    case 'type':
      return `Type: ${scope.device_type}`;
    case 'line':
      return `Line: ${scope.line}`;
  }
}

/** Who hears about the rule, in words: "2 email, 1 WhatsApp, in-app". */
export function channelsSummary(channels: RuleDraft['channels']): string {
  const parts: string[] = [];
  if (channels.email.length > 0) parts.push(`${channels.email.length} email`);
  if (channels.whatsapp.length > 0) parts.push(`${channels.whatsapp.length} WhatsApp`);
  if (channels.in_app) parts.push('in-app');
  return parts.length === 0 ? 'Nobody' : parts.join(', ');
}
