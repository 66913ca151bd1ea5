import type {
  Alert,
  AlertCounts,
  AlertDetail,
  AlertNotification,
  AlertUser,
  AuditEntry,
  Device,
  DeviceParameter,
  FleetTelemetryAnswer,
  FleetTelemetrySeries,
  IngestError,
  Invitation,
  LatestValue,
  LoginResponse,
  Permissions,
  Rule,
  RuleCondition,
  RuleTestEpisode,
  RuleTestResult,
  TelemetryAnswer,
  TelemetrySeries,
  TelemetryStorage,
  User,
} from './types';
import {
  alertStatuses,
  comparisonOps,
  conditionKinds,
  severities,
  telemetryAggs,
  weekDays,
  windowFunctions,
} from './types';

// Runtime shape checks of server answers. A body that fails one is reported as an
// `invalid_response` ApiError instead of crashing a page deep inside a render.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isId = (v: unknown) => typeof v === 'string' || typeof v === 'number';
const isNullableString = (v: unknown) => v === null || typeof v === 'string';
const isRole = (v: unknown) => v === 'super_admin' || v === 'admin';

export function isPermissions(value: unknown): value is Permissions {
  return (
    isRecord(value) &&
    typeof value.rules === 'boolean' &&
    typeof value.analytics === 'boolean' &&
    typeof value.reports === 'boolean' &&
    typeof value.machines === 'boolean'
  );
}

export function isUser(value: unknown): value is User {
  return (
    isRecord(value) &&
    isId(value.id) &&
    typeof value.factory_id === 'string' &&
    typeof value.email === 'string' &&
    typeof value.name === 'string' &&
    isRole(value.role) &&
    isPermissions(value.permissions) &&
    typeof value.is_active === 'boolean' &&
    isNullableString(value.last_login_at) &&
    typeof value.created_at === 'string'
  );
}

export function isLoginResponse(value: unknown): value is LoginResponse {
  return (
    isRecord(value) &&
    typeof value.access_token === 'string' &&
    value.access_token !== '' &&
    typeof value.token_type === 'string' &&
    value.token_type.toLowerCase() === 'bearer' &&
    typeof value.expires_in === 'number' &&
    typeof value.refresh_token === 'string' &&
    value.refresh_token !== '' &&
    isUser(value.user)
  );
}

export function isInvitation(value: unknown): value is Invitation {
  return (
    isRecord(value) &&
    isId(value.id) &&
    typeof value.email === 'string' &&
    isRole(value.role) &&
    isPermissions(value.permissions) &&
    typeof value.expires_at === 'string'
  );
}

const deviceStatuses = ['unknown', 'online', 'offline'];

export function isDevice(value: unknown): value is Device {
  return (
    isRecord(value) &&
    typeof value.device_id === 'string' &&
    typeof value.name === 'string' &&
    isNullableString(value.type) &&
    isNullableString(value.location) &&
    isNullableString(value.line) &&
    (value.rated_power_kw === null || typeof value.rated_power_kw === 'number') &&
    (value.metadata === null || isRecord(value.metadata)) &&
    typeof value.api_key_prefix === 'string' &&
    typeof value.is_enabled === 'boolean' &&
    deviceStatuses.includes(value.status as string) &&
    isNullableString(value.last_seen_at) &&
    typeof value.created_at === 'string' &&
    typeof value.updated_at === 'string'
  );
}

export function isDeviceParameter(value: unknown): value is DeviceParameter {
  return (
    isRecord(value) &&
    typeof value.parameter_key === 'string' &&
    isNullableString(value.display_name) &&
    isNullableString(value.unit) &&
    typeof value.data_type === 'string' &&
    typeof value.is_kpi_selected === 'boolean' &&
    isNullableString(value.first_seen_at) &&
    isNullableString(value.last_seen_at)
  );
}

export function isAuditEntry(value: unknown): value is AuditEntry {
  return (
    isRecord(value) &&
    isId(value.id) &&
    (value.user_id === null || isId(value.user_id)) &&
    isNullableString(value.user_email) &&
    typeof value.action === 'string' &&
    isNullableString(value.resource_type) &&
    (value.resource_id === null || isId(value.resource_id)) &&
    isNullableString(value.ip) &&
    isNullableString(value.request_id) &&
    typeof value.created_at === 'string'
  );
}

/** `{items: [...], total}` with every item passing `isItem`. */
export function isPage<T>(
  value: unknown,
  isItem: (item: unknown) => item is T,
): value is { items: T[]; total: number } {
  return (
    isRecord(value) &&
    Array.isArray(value.items) &&
    value.items.every(isItem) &&
    typeof value.total === 'number'
  );
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isPoint(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && isNumber(value[0]) && isNumber(value[1]);
}

export function isTelemetrySeries(value: unknown): value is TelemetrySeries {
  return (
    isRecord(value) &&
    typeof value.param === 'string' &&
    Array.isArray(value.points) &&
    value.points.every(isPoint)
  );
}

export function isTelemetryAnswer(value: unknown): value is TelemetryAnswer {
  return (
    isRecord(value) &&
    typeof value.device_id === 'string' &&
    typeof value.from === 'string' &&
    typeof value.to === 'string' &&
    typeof value.interval === 'string' &&
    (value.agg === null || (telemetryAggs as readonly unknown[]).includes(value.agg)) &&
    (value.timezone === undefined || isNullableString(value.timezone)) &&
    Array.isArray(value.series) &&
    value.series.every(isTelemetrySeries)
  );
}

function isFleetTelemetrySeries(value: unknown): value is FleetTelemetrySeries {
  return (
    isRecord(value) &&
    typeof value.device_id === 'string' &&
    Array.isArray(value.points) &&
    value.points.every(isPoint)
  );
}

export function isFleetTelemetryAnswer(value: unknown): value is FleetTelemetryAnswer {
  return (
    isRecord(value) &&
    typeof value.param === 'string' &&
    typeof value.from === 'string' &&
    typeof value.to === 'string' &&
    typeof value.interval === 'string' &&
    (value.agg === null || (telemetryAggs as readonly unknown[]).includes(value.agg)) &&
    (value.timezone === undefined || isNullableString(value.timezone)) &&
    Array.isArray(value.series) &&
    value.series.every(isFleetTelemetrySeries)
  );
}

export function isLatestValue(value: unknown): value is LatestValue {
  return (
    isRecord(value) &&
    typeof value.param === 'string' &&
    typeof value.time === 'string' &&
    isNumber(value.value)
  );
}

export function isIngestError(value: unknown): value is IngestError {
  return (
    isRecord(value) &&
    typeof value.received_at === 'string' &&
    typeof value.reason === 'string' &&
    typeof value.message === 'string' &&
    typeof value.payload === 'string'
  );
}

export function isTelemetryStorage(value: unknown): value is TelemetryStorage {
  if (!isRecord(value) || !isRecord(value.retention)) return false;
  const r = value.retention;
  return (
    typeof value.engine === 'string' &&
    (value.bytes === null || isNumber(value.bytes)) &&
    isNumber(value.series) &&
    isNumber(r.raw_days) &&
    isNumber(r.rollup_days) &&
    isNumber(r.raw_days_default) &&
    isNumber(r.rollup_days_default) &&
    typeof r.overridden === 'boolean'
  );
}

const oneOf = (list: readonly string[], v: unknown) => typeof v === 'string' && list.includes(v);
const isNullableNumber = (v: unknown) => v === null || isNumber(v);
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((item) => typeof item === 'string');

function isRuleCondition(value: unknown): value is RuleCondition {
  if (!isRecord(value) || !oneOf(conditionKinds, value.kind)) return false;
  const parameterOk =
    typeof value.parameter === 'string' ||
    (value.kind === 'no_data' && value.parameter === undefined);
  const compared =
    oneOf(comparisonOps, value.op) &&
    isNumber(value.threshold) &&
    (value.clear_threshold === undefined || isNullableNumber(value.clear_threshold));
  switch (value.kind) {
    case 'threshold':
    case 'rate':
      return parameterOk && compared;
    case 'between':
    case 'outside':
      return parameterOk && isNumber(value.low) && isNumber(value.high);
    case 'window':
      return (
        parameterOk && compared && oneOf(windowFunctions, value.function) && isNumber(value.minutes)
      );
    default:
      return parameterOk && isNumber(value.minutes);
  }
}

function isRuleScope(value: unknown): boolean {
  if (!isRecord(value)) return false;
  switch (value.kind) {
    case 'all':
      return true;
    case 'devices':
      return isStringArray(value.device_ids);
    case 'type':
      return typeof value.device_type === 'string';
    case 'line':
      return typeof value.line === 'string';
    default:
      return false;
  }
}

function isRuleSchedule(value: unknown): boolean {
  return (
    value === null ||
    (isRecord(value) &&
      Array.isArray(value.days) &&
      value.days.every((d) => oneOf(weekDays, d)) &&
      typeof value.start === 'string' &&
      typeof value.end === 'string' &&
      (value.timezone === undefined || typeof value.timezone === 'string'))
  );
}

export function isRule(value: unknown): value is Rule {
  if (!isRecord(value)) return false;
  const c = value.channels;
  return (
    isNumber(value.id) &&
    isNumber(value.version) &&
    typeof value.name === 'string' &&
    typeof value.description === 'string' &&
    oneOf(severities, value.severity) &&
    typeof value.enabled === 'boolean' &&
    isRuleScope(value.scope) &&
    (value.logic === 'and' || value.logic === 'or') &&
    Array.isArray(value.conditions) &&
    value.conditions.every(isRuleCondition) &&
    isNumber(value.duration_seconds) &&
    isNumber(value.clear_after_seconds) &&
    isNumber(value.cooldown_seconds) &&
    isNullableNumber(value.repeat_seconds) &&
    isRuleSchedule(value.schedule) &&
    isRecord(c) &&
    isStringArray(c.email) &&
    isStringArray(c.whatsapp) &&
    typeof c.in_app === 'boolean' &&
    typeof value.created_at === 'string' &&
    typeof value.updated_at === 'string'
  );
}

function isRuleTestEpisode(value: unknown): value is RuleTestEpisode {
  return (
    isRecord(value) &&
    typeof value.device_id === 'string' &&
    typeof value.started_at === 'string' &&
    typeof value.fired_at === 'string' &&
    (value.cleared_at === undefined || isNullableString(value.cleared_at)) &&
    (value.value === undefined || isNullableNumber(value.value)) &&
    (value.threshold === undefined || isNullableNumber(value.threshold))
  );
}

export function isRuleTestResult(value: unknown): value is RuleTestResult {
  return (
    isRecord(value) &&
    typeof value.from === 'string' &&
    typeof value.to === 'string' &&
    isNumber(value.fired) &&
    isNumber(value.readings) &&
    Array.isArray(value.episodes) &&
    value.episodes.every(isRuleTestEpisode)
  );
}

function isAlertUser(value: unknown): value is AlertUser | null {
  return (
    value === null ||
    (isRecord(value) &&
      isId(value.id) &&
      typeof value.email === 'string' &&
      typeof value.name === 'string')
  );
}

export function isAlert(value: unknown): value is Alert {
  return (
    isRecord(value) &&
    isNumber(value.id) &&
    isNumber(value.rule_id) &&
    typeof value.rule_name === 'string' &&
    typeof value.device_id === 'string' &&
    oneOf(severities, value.severity) &&
    oneOf(alertStatuses, value.status) &&
    isNullableString(value.parameter) &&
    isNullableNumber(value.value) &&
    isNullableNumber(value.threshold) &&
    typeof value.message === 'string' &&
    typeof value.started_at === 'string' &&
    isNullableNumber(value.last_value) &&
    isNullableString(value.escalated_at) &&
    isNullableString(value.acknowledged_at) &&
    isAlertUser(value.acknowledged_by) &&
    isNullableString(value.ack_comment) &&
    isNullableString(value.resolved_at) &&
    isAlertUser(value.resolved_by) &&
    (value.resolution === null || value.resolution === 'auto' || value.resolution === 'manual') &&
    isNullableString(value.resolve_comment)
  );
}

function isAlertNotification(value: unknown): value is AlertNotification {
  return (
    isRecord(value) &&
    isId(value.id) &&
    oneOf(['opened', 'escalated', 'reminder', 'resolved'], value.event) &&
    oneOf(['email', 'whatsapp', 'in_app'], value.channel) &&
    typeof value.recipient === 'string' &&
    (value.result === 'sent' || value.result === 'failed') &&
    isNullableString(value.detail) &&
    isNumber(value.attempt) &&
    typeof value.attempted_at === 'string'
  );
}

export function isAlertDetail(value: unknown): value is AlertDetail {
  if (!isAlert(value)) return false;
  const notifications: unknown = (value as unknown as Record<string, unknown>).notifications;
  return Array.isArray(notifications) && notifications.every(isAlertNotification);
}

const isCountMap = (v: unknown): v is Record<string, number> =>
  isRecord(v) && Object.values(v).every(isNumber);

export function isAlertCounts(value: unknown): value is AlertCounts {
  return (
    isRecord(value) &&
    isNumber(value.open) &&
    isNumber(value.acknowledged) &&
    isCountMap(value.by_severity) &&
    isCountMap(value.by_device)
  );
}
