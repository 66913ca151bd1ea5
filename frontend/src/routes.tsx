import { lazy, Suspense, type ReactNode } from 'react';
import type { RouteObject } from 'react-router';
import { AppLayout } from './components/AppLayout';
import { LoadingRows } from './components/QueryStates';
import { RequirePermission, RequireSession } from './components/RequireSession';
import { AcceptInvitePage } from './pages/AcceptInvitePage';
import { DashboardPage } from './pages/DashboardPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import type { Action } from './auth/permissions';

// The management pages load on first visit, so the sign-in page and dashboard stay small.
const UsersPage = lazy(() => import('./pages/UsersPage').then((m) => ({ default: m.UsersPage })));
const MachinesPage = lazy(() =>
  import('./pages/MachinesPage').then((m) => ({ default: m.MachinesPage })),
);
const MachineDetailPage = lazy(() =>
  import('./pages/MachineDetailPage').then((m) => ({ default: m.MachineDetailPage })),
);
const AuditLogPage = lazy(() =>
  import('./pages/AuditLogPage').then((m) => ({ default: m.AuditLogPage })),
);
const DeadLettersPage = lazy(() =>
  import('./pages/DeadLettersPage').then((m) => ({ default: m.DeadLettersPage })),
);
const RulesPage = lazy(() => import('./pages/RulesPage').then((m) => ({ default: m.RulesPage })));
const RuleEditPage = lazy(() =>
  import('./pages/RuleEditPage').then((m) => ({ default: m.RuleEditPage })),
);
const AlertsPage = lazy(() =>
  import('./pages/AlertsPage').then((m) => ({ default: m.AlertsPage })),
);
const AlertDetailPage = lazy(() =>
  import('./pages/AlertDetailPage').then((m) => ({ default: m.AlertDetailPage })),
);
const StoragePage = lazy(() =>
  import('./pages/StoragePage').then((m) => ({ default: m.StoragePage })),
);

function page(action: Action, element: ReactNode) {
  return (
    <RequirePermission action={action}>
      <Suspense fallback={<LoadingRows label="Loading page…" />}>{element}</Suspense>
    </RequirePermission>
  );
}

/**
 * Client routes. Only sections whose server endpoints exist get a page; everything else,
 * including the sections the menu shows as "not yet available", falls through to 404.
 * Everything but sign-in and invitation acceptance needs a session.
 */
export const routes: RouteObject[] = [
  { path: '/login', element: <LoginPage /> },
  { path: '/accept-invite', element: <AcceptInvitePage /> },
  {
    element: (
      <RequireSession>
        <AppLayout />
      </RequireSession>
    ),
    children: [
      { index: true, element: <DashboardPage /> },
      { path: 'machines', element: page('view_machines', <MachinesPage />) },
      { path: 'machines/:deviceId', element: page('view_machines', <MachineDetailPage />) },
      { path: 'rules', element: page('view_dashboard', <RulesPage />) },
      { path: 'rules/new', element: page('manage_rules', <RuleEditPage />) },
      { path: 'rules/:ruleId', element: page('view_dashboard', <RuleEditPage />) },
      { path: 'alerts', element: page('view_dashboard', <AlertsPage />) },
      { path: 'alerts/:alertId', element: page('view_dashboard', <AlertDetailPage />) },
      { path: 'users', element: page('manage_users', <UsersPage />) },
      { path: 'audit-log', element: page('view_audit_log', <AuditLogPage />) },
      { path: 'jobs/dead-letters', element: page('manage_factory', <DeadLettersPage />) },
      { path: 'storage', element: page('manage_factory', <StoragePage />) },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];
