import { NavLink } from 'react-router';
import { can } from '../auth/permissions';
import { useSessionStore } from '../stores/session';
import { navSections, type NavSection } from './navigation';

const itemBase =
  'flex shrink-0 items-center justify-between gap-3 rounded-md px-3 py-2 text-sm font-medium';

function AvailableItem({ section }: { section: NavSection }) {
  return (
    <NavLink
      to={section.path}
      end={section.path === '/'}
      className={({ isActive }) =>
        `${itemBase} transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400 ${
          isActive
            ? 'bg-slate-800 text-white shadow-inner'
            : 'text-slate-300 hover:bg-slate-800/60 hover:text-white'
        }`
      }
    >
      {section.label}
    </NavLink>
  );
}

function UnavailableItem({ section }: { section: NavSection }) {
  const hintId = `nav-hint-${section.path.replace(/\W/g, '') || 'root'}`;
  return (
    <span
      aria-disabled="true"
      aria-describedby={hintId}
      className={`${itemBase} cursor-not-allowed text-slate-500 select-none`}
    >
      {section.label}
      <span id={hintId} className="text-[11px] font-normal whitespace-nowrap text-slate-500">
        not yet available
      </span>
    </span>
  );
}

/**
 * Main navigation for the signed-in user: sections their role does not include are left out,
 * sections without a server behind them yet are shown but cannot be opened.
 */
export function NavMenu({ sections = navSections }: { sections?: readonly NavSection[] }) {
  const user = useSessionStore((state) => state.session?.user);
  const visible = sections.filter((section) => can(user, section.requires));
  return (
    <nav aria-label="Main">
      <ul className="flex gap-1 overflow-x-auto md:flex-col md:overflow-visible">
        {visible.map((section) => (
          <li key={section.path}>
            {section.available ? (
              <AvailableItem section={section} />
            ) : (
              <UnavailableItem section={section} />
            )}
          </li>
        ))}
      </ul>
    </nav>
  );
}
