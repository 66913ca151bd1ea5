import { Link, Outlet } from 'react-router';
import { useCurrentUser } from '../hooks/useCurrentUser';
import { BrandMark } from './BrandMark';
import { NavMenu } from './NavMenu';
import { SessionMenu } from './SessionMenu';

/** Frame of every signed-in page: sidebar navigation on wide screens, a top strip on narrow. */
export function AppLayout() {
  useCurrentUser();
  return (
    <div className="flex min-h-screen flex-col bg-slate-100 text-slate-900 md:flex-row">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-10 focus:rounded focus:bg-white focus:px-3 focus:py-1"
      >
        Skip to content
      </a>
      <aside className="bg-slate-900 px-3 py-3 md:w-56 md:shrink-0 md:py-4">
        <Link
          to="/"
          className="mb-3 flex items-center gap-2 px-2 text-white md:mb-6"
          aria-label="FactoryOps home"
        >
          <BrandMark />
          <span className="text-base font-semibold tracking-tight">FactoryOps</span>
        </Link>
        <NavMenu />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-12 items-center justify-end border-b border-slate-200 bg-white px-4">
          <SessionMenu />
        </header>
        <main id="main" className="flex-1 p-4 md:p-6">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
