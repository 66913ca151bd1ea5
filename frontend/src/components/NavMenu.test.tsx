import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { NavMenu } from './NavMenu';
import { navSections } from './navigation';

function renderNav() {
  render(
    <MemoryRouter initialEntries={['/']}>
      <NavMenu />
    </MemoryRouter>,
  );
  return screen.getByRole('navigation', { name: 'Main' });
}

describe('NavMenu', () => {
  it('lists the sections in product order', () => {
    const nav = renderNav();
    const labels = within(nav)
      .getAllByRole('listitem')
      .map((item) => item.firstElementChild?.firstChild?.textContent);
    expect(labels).toEqual(['Dashboard', 'Machines', 'Rules', 'Analytics', 'Reports', 'Users']);
  });

  it('renders the dashboard as the only link, marked as the current page', () => {
    const nav = renderNav();
    const links = within(nav).getAllByRole('link');
    expect(links).toHaveLength(1);
    expect(links[0]).toHaveTextContent('Dashboard');
    expect(links[0]).toHaveAttribute('href', '/');
    expect(links[0]).toHaveAttribute('aria-current', 'page');
  });

  it.each(['Machines', 'Rules', 'Analytics', 'Reports', 'Users'])(
    'shows %s as disabled text with a hint, not as a link',
    (label) => {
      const nav = renderNav();
      const item = within(nav).getByText(label);
      expect(item.closest('a')).toBeNull();
      expect(item).toHaveAttribute('aria-disabled', 'true');
      expect(item).toHaveAccessibleDescription('not yet available');
      expect(item).not.toHaveAttribute('href');
    },
  );

  it('follows the data: a section flagged available becomes a link', () => {
    render(
      <MemoryRouter>
        <NavMenu sections={navSections.map((s) => ({ ...s, available: s.label === 'Rules' }))} />
      </MemoryRouter>,
    );
    expect(screen.getByRole('link', { name: 'Rules' })).toHaveAttribute('href', '/rules');
    expect(screen.queryByRole('link', { name: 'Dashboard' })).toBeNull();
  });
});
