import type { Action } from '../auth/permissions';

/**
 * The product's sections in display order. A section becomes `available` in the release that
 * ships both its server endpoints and its page; until then the menu shows it disabled so
 * operators can see what is coming without landing on an empty page. `requires` names the
 * policy action a user needs for the section to appear at all.
 */
export interface NavSection {
  path: string;
  label: string;
  available: boolean;
  requires: Action;
}

export const navSections: readonly NavSection[] = [
  { path: '/', label: 'Dashboard', available: true, requires: 'view_dashboard' },
  { path: '/machines', label: 'Machines', available: true, requires: 'view_machines' },
  { path: '/alerts', label: 'Alerts', available: true, requires: 'view_dashboard' },
  { path: '/rules', label: 'Rules', available: true, requires: 'view_dashboard' },
  { path: '/analytics', label: 'Analytics', available: false, requires: 'view_dashboard' },
  { path: '/reports', label: 'Reports', available: false, requires: 'view_dashboard' },
  { path: '/users', label: 'Users', available: true, requires: 'manage_users' },
  { path: '/audit-log', label: 'Audit log', available: true, requires: 'view_audit_log' },
  {
    path: '/jobs/dead-letters',
    label: 'Dead letters',
    available: true,
    requires: 'manage_factory',
  },
  { path: '/storage', label: 'Storage', available: true, requires: 'manage_factory' },
];
