import type { User } from '../api/types';

/** The actions of the server's policy table (docs/api-identity.md, "Permissions"). */
export type Action =
  | 'view_dashboard'
  | 'view_machines'
  | 'own_account'
  | 'manage_machines'
  | 'manage_rules'
  | 'run_analytics'
  | 'generate_reports'
  | 'manage_users'
  | 'view_audit_log'
  | 'manage_factory';

/**
 * Whether `user` may perform `action`. This only decides what the app offers; the server
 * applies the same table to every request and is the real guard.
 */
export function can(user: Pick<User, 'role' | 'permissions'> | null | undefined, action: Action) {
  if (!user) return false;
  if (user.role === 'super_admin') return true;
  if (user.role !== 'admin') return false;
  switch (action) {
    case 'view_dashboard':
    case 'view_machines':
    case 'own_account':
      return true;
    case 'manage_machines':
      return user.permissions.machines;
    case 'manage_rules':
      return user.permissions.rules;
    case 'run_analytics':
      return user.permissions.analytics;
    case 'generate_reports':
      return user.permissions.reports;
    case 'manage_users':
    case 'view_audit_log':
    case 'manage_factory':
      return false;
  }
}

export const roleLabels: Record<User['role'], string> = {
  super_admin: 'Super admin',
  admin: 'Admin',
};
