import type { AlertStatus, Severity } from '../api/types';
import { StatusBadge, type BadgeTone } from './StatusBadge';

const severityTone: Record<Severity, BadgeTone> = {
  critical: 'bad',
  major: 'bad',
  minor: 'warn',
  warning: 'warn',
  info: 'neutral',
};

/** A rule's or alert's severity; the word carries the meaning, the colour groups them. */
export function SeverityBadge({ severity }: { severity: Severity }) {
  return <StatusBadge tone={severityTone[severity]} label={severity} testId="severity" />;
}

const statusTone: Record<AlertStatus, BadgeTone> = {
  open: 'bad',
  acknowledged: 'warn',
  resolved: 'good',
};

export function AlertStatusBadge({ status }: { status: AlertStatus }) {
  return <StatusBadge tone={statusTone[status]} label={status} testId="alert-status" />;
}
