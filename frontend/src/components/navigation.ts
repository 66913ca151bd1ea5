/**
 * The product's sections in display order. A section becomes `available` in the release that
 * ships both its server endpoints and its page; until then the menu shows it disabled so
 * operators can see what is coming without landing on an empty page.
 */
export interface NavSection {
  path: string;
  label: string;
  available: boolean;
}

export const navSections: readonly NavSection[] = [
  { path: '/', label: 'Dashboard', available: true },
  { path: '/machines', label: 'Machines', available: false },
  { path: '/rules', label: 'Rules', available: false },
  { path: '/analytics', label: 'Analytics', available: false },
  { path: '/reports', label: 'Reports', available: false },
  { path: '/users', label: 'Users', available: false },
];
