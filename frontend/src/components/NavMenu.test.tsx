import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { User } from '../api/types';
import { machineAdmin, signInAs, superAdmin, viewerAdmin } from '../test/render';
import { NavMenu } from './NavMenu';
import { navSections } from './navigation';

function renderNav(user: User) {
  signInAs(user);
  render(
    <MemoryRouter initialEntries={['/']}>
      <NavMenu />
    </MemoryRouter>,
  );
  return screen.getByRole('navigation', { name: 'Main' });
}

const labels = (nav: HTMLElement) =>
  within(nav)
    .getAllByRole('listitem')
    .map((item) => item.firstElementChild?.firstChild?.textContent);

const links = (nav: HTMLElement) =>
  within(nav)
    .getAllByRole('link')
    .map((link) => [link.textContent, link.getAttribute('href')]);

describe('NavMenu', () => {
  it('gives a super admin every section, Users, Audit log, Dead letters and Storage included', () => {
    const nav = renderNav(superAdmin);
    expect(labels(nav)).toEqual([
      'Dashboard',
      'Machines',
      'Alerts',
      'Rules',
      'Analytics',
      'Reports',
      'Users',
      'Audit log',
      'Dead letters',
      'Storage',
    ]);
    expect(links(nav)).toEqual([
      ['Dashboard', '/'],
      ['Machines', '/machines'],
      ['Alerts', '/alerts'],
      ['Rules', '/rules'],
      ['Users', '/users'],
      ['Audit log', '/audit-log'],
      ['Dead letters', '/jobs/dead-letters'],
      ['Storage', '/storage'],
    ]);
  });

  it.each([
    ['without permissions', viewerAdmin],
    ['with the machines permission', machineAdmin],
  ])('leaves Users, Audit log, Dead letters and Storage out for an admin %s', (_name, user) => {
    const nav = renderNav(user);
    expect(labels(nav)).toEqual([
      'Dashboard',
      'Machines',
      'Alerts',
      'Rules',
      'Analytics',
      'Reports',
    ]);
    expect(within(nav).queryByText('Dead letters')).toBeNull();
    expect(within(nav).queryByText('Storage')).toBeNull();
    expect(links(nav)).toEqual([
      ['Dashboard', '/'],
      ['Machines', '/machines'],
      ['Alerts', '/alerts'],
      ['Rules', '/rules'],
    ]);
  });

  it('marks the current page', () => {
    const nav = renderNav(superAdmin);
    expect(within(nav).getByRole('link', { name: 'Dashboard' })).toHaveAttribute(
      'aria-current',
      'page',
    );
  });

  it.each(['Analytics', 'Reports'])(
    'shows %s as disabled text with a hint, not as a link',
    (label) => {
      const nav = renderNav(superAdmin);
      const item = within(nav).getByText(label);
      expect(item.closest('a')).toBeNull();
      expect(item).toHaveAttribute('aria-disabled', 'true');
      expect(item).toHaveAccessibleDescription('not yet available');
      expect(item).not.toHaveAttribute('href');
    },
  );

  it('follows the data: a section flagged available becomes a link', () => {
    signInAs(superAdmin);
    render(
      <MemoryRouter>
        <NavMenu
          sections={navSections.map((s) => ({ ...s, available: s.label === 'Analytics' }))}
        />
      </MemoryRouter>,
    );
    expect(screen.getByRole('link', { name: 'Analytics' })).toHaveAttribute('href', '/analytics');
    expect(screen.queryByRole('link', { name: 'Dashboard' })).toBeNull();
  });
});
