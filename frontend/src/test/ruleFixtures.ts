import type { Alert, AlertDetail, Rule, RuleDraft, RuleTestResult, User } from '../api/types';
import { viewerAdmin } from './render';

/** An admin with the rules permission. */
export const ruleAdmin: User = {
  ...viewerAdmin,
  id: 4,
  email: 'rita@plant.example',
  name: 'Rita',
  permissions: { ...viewerAdmin.permissions, rules: true },
};

/** The example rule of docs/rules.md, as the server answers it. */
export const compressorRule: Rule = {
  id: 7,
  version: 3,
  name: 'Compressor power high',
  description: 'Sustained overload of the main compressors',
  severity: 'critical',
  enabled: true,
  scope: { kind: 'type', device_type: 'compressor' },
  logic: 'and',
  conditions: [
    { kind: 'threshold', parameter: 'power_kw', op: '>', threshold: 75, clear_threshold: 70 },
  ],
  duration_seconds: 300,
  clear_after_seconds: 60,
  cooldown_seconds: 900,
  repeat_seconds: 3600,
  schedule: {
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '06:00',
    end: '22:00',
    timezone: 'Europe/Berlin',
  },
  channels: { email: ['maintenance@example.com'], whatsapp: ['+4915112345678'], in_app: true },
  created_at: '2026-11-20T08:00:00Z',
  updated_at: '2026-11-27T08:00:00Z',
};

export const openAlert: Alert = {
  id: 41,
  rule_id: 7,
  rule_name: 'Compressor power high',
  device_id: 'compressor-1',
  severity: 'critical',
  status: 'open',
  parameter: 'power_kw',
  value: 81.5,
  threshold: 75,
  message: 'power_kw 81.5 > 75 for 5 min',
  started_at: '2026-11-27T16:00:00Z',
  last_value: 79,
  escalated_at: null,
  acknowledged_at: null,
  acknowledged_by: null,
  ack_comment: null,
  resolved_at: null,
  resolved_by: null,
  resolution: null,
  resolve_comment: null,
};

export const alertDetail: AlertDetail = {
  ...openAlert,
  notifications: [
    {
      id: 1,
      event: 'opened',
      channel: 'email',
      recipient: 'maintenance@example.com',
      result: 'sent',
      detail: null,
      attempt: 1,
      attempted_at: '2026-11-27T16:05:01Z',
    },
    {
      id: 2,
      event: 'opened',
      channel: 'whatsapp',
      recipient: '+4915112345678',
      result: 'failed',
      detail: 'Twilio 21211: invalid To number',
      attempt: 3,
      attempted_at: '2026-11-27T16:05:09Z',
    },
  ],
};

export const testResult: RuleTestResult = {
  from: '2026-11-26T16:00:00Z',
  to: '2026-11-27T16:00:00Z',
  fired: 2,
  readings: 17_280,
  episodes: [
    {
      device_id: 'compressor-1',
      started_at: '2026-11-27T03:00:00Z',
      fired_at: '2026-11-27T03:05:00Z',
      cleared_at: '2026-11-27T03:20:00Z',
      value: 80.2,
      threshold: 75,
    },
    {
      device_id: 'compressor-2',
      started_at: '2026-11-27T15:30:00Z',
      fired_at: '2026-11-27T15:35:00Z',
      cleared_at: null,
      value: 77,
      threshold: 75,
    },
  ],
};

export const page = <T>(items: T[], total = items.length) => ({ items, total });

/** A stored rule without its server fields: the body that created it. */
export function draftOf(rule: Rule): RuleDraft {
  const draft: Partial<Rule> = { ...rule };
  delete draft.id;
  delete draft.version;
  delete draft.created_at;
  delete draft.updated_at;
  return draft as RuleDraft;
}
