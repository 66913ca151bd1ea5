import { Link, useLocation } from 'react-router';

export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <>
      <title>Page not found · FactoryOps</title>
      <div className="mx-auto mt-10 max-w-lg rounded-lg border border-slate-200 bg-white p-6 text-center shadow-sm">
        <p className="font-mono text-sm font-semibold text-sky-700">404</p>
        <h1 className="mt-1 text-xl font-semibold text-slate-900">Page not found</h1>
        <p className="mt-2 text-sm break-words text-slate-600">
          There is no page at <code className="font-mono text-slate-800">{pathname}</code>.
        </p>
        <Link
          to="/"
          className="mt-5 inline-block rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-700"
        >
          Back to the dashboard
        </Link>
      </div>
    </>
  );
}
