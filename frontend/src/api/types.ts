// Wire types of the FactoryOps HTTP API, as the server sends them (snake_case kept on purpose
// so a field can be searched for in the OpenAPI document and the server code alike).

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';
export type DependencyState = 'ok' | 'down';

/** Body of `GET /health`; the server answers 200 when healthy and 503 otherwise. */
export interface HealthReport {
  status: HealthStatus;
  service: string;
  dependencies: Record<string, DependencyState>;
}

/** Body of `GET /api/v1/system/info`. */
export interface SystemInfo {
  name: string;
  version: string;
  roles: string[];
  metadata_backend: 'sqlite' | 'mysql';
  started_at: string;
  uptime_seconds: number;
}

export interface LoginRequest {
  factory_id: string;
  email: string;
  password: string;
}

export type Role = 'super_admin' | 'admin';

/** What an admin may do beyond viewing; a super admin may do everything regardless. */
export interface Permissions {
  rules: boolean;
  analytics: boolean;
  reports: boolean;
  machines: boolean;
}

export const permissionNames = ['rules', 'analytics', 'reports', 'machines'] as const;
export type PermissionName = (typeof permissionNames)[number];

/** A user as every identity endpoint returns it. */
export interface User {
  /** Numeric or UUID depending on the metadata backend; treat it as opaque. */
  id: string | number;
  factory_id: string;
  email: string;
  name: string;
  role: Role;
  permissions: Permissions;
  is_active: boolean;
  last_login_at: string | null;
  created_at: string;
}

/** The user kept with the session. */
export type SessionUser = User;

/** Body of a successful login, refresh or invitation acceptance. */
export interface LoginResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  user: SessionUser;
}

export interface AcceptInviteRequest {
  token: string;
  name: string;
  password: string;
}

export interface ChangePasswordRequest {
  current_password: string;
  new_password: string;
}

export interface UserList {
  items: User[];
  total: number;
}

export interface InviteRequest {
  email: string;
  role: Role;
  permissions?: Permissions;
}

export interface Invitation {
  id: string | number;
  email: string;
  role: Role;
  permissions: Permissions;
  expires_at: string;
}

export interface InviteResponse {
  invitation: Invitation;
  /** Site-relative, e.g. `/accept-invite?token=…`. */
  invite_url: string;
  /**
   * `queued`: the invitation email is on its way (attempts appear in the audit log);
   * otherwise the link is the only way to pass the invitation on.
   */
  email: 'queued' | 'not_configured' | 'not_queued';
}

export interface UserUpdate {
  role?: Role;
  permissions?: Permissions;
  is_active?: boolean;
  name?: string;
}

export type DeviceStatus = 'unknown' | 'online' | 'offline';

export interface Device {
  device_id: string;
  name: string;
  /** Optional text fields are null when not set (the server stores "" as not set). */
  type: string | null;
  location: string | null;
  line: string | null;
  rated_power_kw: number | null;
  metadata: Record<string, unknown> | null;
  api_key_prefix: string;
  is_enabled: boolean;
  status: DeviceStatus;
  last_seen_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeviceCreate {
  device_id: string;
  name: string;
  type?: string | null;
  location?: string | null;
  line?: string | null;
  rated_power_kw?: number | null;
  metadata?: Record<string, unknown> | null;
}

export type DeviceUpdate = Partial<
  Pick<Device, 'name' | 'type' | 'location' | 'line' | 'rated_power_kw' | 'metadata' | 'is_enabled'>
>;

/** A device together with its API key; the only time the key is ever sent. */
export interface DeviceWithKey {
  device: Device;
  api_key: string;
}

export interface DeviceQuery {
  limit?: number;
  offset?: number;
  search?: string;
  type?: string;
  line?: string;
  location?: string;
  status?: string;
}

export interface DeviceList {
  items: Device[];
  total: number;
  limit: number;
  offset: number;
}

export interface DeviceParameter {
  parameter_key: string;
  display_name: string | null;
  unit: string | null;
  data_type: string;
  is_kpi_selected: boolean;
  first_seen_at: string | null;
  last_seen_at: string | null;
}

export type ParameterUpdate = Partial<
  Pick<DeviceParameter, 'display_name' | 'unit' | 'is_kpi_selected'>
>;

export const telemetryAggs = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const;
export type TelemetryAgg = (typeof telemetryAggs)[number];

/** Query of `GET /api/v1/devices/{id}/telemetry`; times are epoch milliseconds or RFC 3339. */
export interface TelemetryQuery {
  /** Parameter keys (at most 20); the server defaults to the KPI-selected ones. */
  params?: string[];
  from?: number | string;
  to?: number | string;
  agg?: TelemetryAgg;
  /** `auto`, `raw`, `<n>s`, `<n>m`, `<n>h` or `1d`. */
  interval?: string;
  max_points?: number;
}

/** One parameter's points as `[epoch ms, value]`, oldest first; empty buckets left out. */
export interface TelemetrySeries {
  param: string;
  points: [number, number][];
}

export interface TelemetryAnswer {
  device_id: string;
  from: string;
  to: string;
  /** The interval the server chose: `raw` or a bucket width such as `1m`. */
  interval: string;
  /** Null when raw points are returned. */
  agg: TelemetryAgg | null;
  /** The factory's IANA timezone, when the server knows it. */
  timezone: string | null;
  series: TelemetrySeries[];
}

/** Query of `GET /api/v1/telemetry`: one parameter across 1…50 machines. */
export interface FleetTelemetryQuery {
  devices: string[];
  param: string;
  from?: number | string;
  to?: number | string;
  agg?: TelemetryAgg;
  interval?: string;
  max_points?: number;
}

/** One machine's points of the parameter, `[epoch ms, value]`, oldest first. */
export interface FleetTelemetrySeries {
  device_id: string;
  points: [number, number][];
}

/** Body of `GET /api/v1/telemetry`; one series per machine, in the order asked. */
export interface FleetTelemetryAnswer {
  param: string;
  from: string;
  to: string;
  interval: string;
  agg: TelemetryAgg | null;
  timezone: string | null;
  series: FleetTelemetrySeries[];
}

export interface LatestValue {
  param: string;
  time: string;
  value: number;
}

/** A message or reading the ingest pipeline rejected; `payload` holds its first 512 bytes. */
export interface IngestError {
  received_at: string;
  reason: string;
  message: string;
  payload: string;
}

export interface TelemetryRetention {
  raw_days: number;
  rollup_days: number;
  raw_days_default: number;
  rollup_days_default: number;
  overridden: boolean;
}

/** Body of `GET /api/v1/telemetry/storage`; `bytes` is null when the engine cannot tell. */
export interface TelemetryStorage {
  engine: string;
  bytes: number | null;
  series: number;
  retention: TelemetryRetention;
}

/** Body of `PATCH /api/v1/telemetry/retention`; null returns a setting to its default. */
export interface RetentionUpdate {
  raw_days?: number | null;
  rollup_days?: number | null;
}

export interface AuditEntry {
  id: string | number;
  user_id: string | number | null;
  user_email: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  details: unknown;
  ip: string | null;
  request_id: string | null;
  created_at: string;
}

export interface AuditQuery {
  limit?: number;
  offset?: number;
  action?: string;
  user_id?: string;
  from?: string;
  to?: string;
}

export interface AuditList {
  items: AuditEntry[];
  total: number;
}

export const auditActions = [
  'auth.login',
  'auth.login_failed',
  'auth.refresh_reuse',
  'auth.logout',
  'auth.password_changed',
  'user.created',
  'user.invited',
  'user.invitation_emailed',
  'user.invitation_email_failed',
  'user.invite_accepted',
  'user.updated',
  'user.deactivated',
  'device.created',
  'device.updated',
  'device.deleted',
  'device.key_rotated',
  'rule.created',
  'rule.updated',
  'rule.deleted',
  'alert.acknowledged',
  'alert.resolved',
  'job.requeued',
  'job.deleted',
] as const;

/** The one error shape every FactoryOps endpoint uses. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    request_id: string;
    /** Present on `invalid_argument` errors: the request field at fault. */
    field?: string;
  };
}

// Rules and alerts (docs/rules.md; the alert API of issue 6).

export const severities = ['critical', 'major', 'minor', 'warning', 'info'] as const;
/** Listed worst first; the server orders them info < warning < minor < major < critical. */
export type Severity = (typeof severities)[number];

export const comparisonOps = ['>', '>=', '<', '<=', '==', '!='] as const;
export type ComparisonOp = (typeof comparisonOps)[number];

export const windowFunctions = ['avg', 'min', 'max', 'sum'] as const;
export type WindowFunction = (typeof windowFunctions)[number];

export const conditionKinds = [
  'threshold',
  'between',
  'outside',
  'window',
  'rate',
  'no_data',
] as const;
export type ConditionKind = (typeof conditionKinds)[number];

export const weekDays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekDay = (typeof weekDays)[number];

export type RuleScope =
  | { kind: 'all' }
  | { kind: 'devices'; device_ids: string[] }
  | { kind: 'type'; device_type: string }
  | { kind: 'line'; line: string };

/** One condition; only the fields its kind uses are sent (the server refuses the others). */
export type RuleCondition =
  | {
      kind: 'threshold' | 'rate';
      parameter: string;
      op: ComparisonOp;
      threshold: number;
      clear_threshold?: number | null;
    }
  | { kind: 'between' | 'outside'; parameter: string; low: number; high: number }
  | {
      kind: 'window';
      parameter: string;
      function: WindowFunction;
      minutes: number;
      op: ComparisonOp;
      threshold: number;
      clear_threshold?: number | null;
    }
  | { kind: 'no_data'; minutes: number; parameter?: string };

export interface RuleSchedule {
  days: WeekDay[];
  start: string;
  end: string;
  timezone?: string;
}

export interface RuleChannels {
  email: string[];
  whatsapp: string[];
  in_app: boolean;
}

/** The body of POST /api/v1/rules and POST /api/v1/rules/test. */
export interface RuleDraft {
  name: string;
  description: string;
  severity: Severity;
  enabled: boolean;
  scope: RuleScope;
  logic: 'and' | 'or';
  conditions: RuleCondition[];
  duration_seconds: number;
  clear_after_seconds: number;
  cooldown_seconds: number;
  repeat_seconds: number | null;
  schedule: RuleSchedule | null;
  channels: RuleChannels;
}

export interface Rule extends RuleDraft {
  id: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface RuleList {
  items: Rule[];
  total: number;
}

export interface RuleTestEpisode {
  device_id: string;
  started_at: string;
  fired_at: string;
  /** Null when the rule was still firing at the end of the replay. */
  cleared_at: string | null;
  value: number | null;
  threshold: number | null;
}

/** What replaying the last 24 h through a rule found. */
export interface RuleTestResult {
  from: string;
  to: string;
  fired: number;
  readings: number;
  episodes: RuleTestEpisode[];
}

export const alertStatuses = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof alertStatuses)[number];

export interface AlertUser {
  id: string | number;
  email: string;
  name: string;
}

export interface Alert {
  id: number;
  rule_id: number;
  rule_name: string;
  device_id: string;
  severity: Severity;
  status: AlertStatus;
  parameter: string | null;
  /** The value that triggered the alert. */
  value: number | null;
  threshold: number | null;
  message: string;
  started_at: string;
  last_value: number | null;
  escalated_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: AlertUser | null;
  ack_comment: string | null;
  resolved_at: string | null;
  /** Null when the alert cleared by itself (resolution `auto`). */
  resolved_by: AlertUser | null;
  resolution: 'auto' | 'manual' | null;
  resolve_comment: string | null;
}

export interface AlertNotification {
  id: number | string;
  event: 'opened' | 'escalated' | 'reminder' | 'resolved';
  channel: 'email' | 'whatsapp' | 'in_app';
  recipient: string;
  result: 'sent' | 'failed';
  detail: string | null;
  attempt: number;
  attempted_at: string;
}

export interface AlertDetail extends Alert {
  notifications: AlertNotification[];
}

export interface AlertQuery {
  status?: AlertStatus[];
  severity?: Severity[];
  device_id?: string;
  rule_id?: string | number;
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

export interface AlertList {
  items: Alert[];
  total: number;
}

/** Unresolved alerts, for the dashboard and the machine list. */
export interface AlertCounts {
  open: number;
  acknowledged: number;
  by_severity: Partial<Record<Severity, number>>;
  by_device: Record<string, number>;
}
