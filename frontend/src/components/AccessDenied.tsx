import { Link } from 'react-router';

/** Shown on a direct visit to a page the signed-in user's role does not include. */
export function AccessDenied() {
  return (
    <>
      <title>No access · FactoryOps</title>
      <div className="mx-auto mt-10 max-w-lg rounded-lg border border-slate-200 bg-white p-6 text-center shadow-sm">
        <p className="font-mono text-sm font-semibold text-amber-700">403</p>
        <h1 className="mt-1 text-xl font-semibold text-slate-900">
          You don&apos;t have access to this page
        </h1>
        <p className="mt-2 text-sm text-slate-600">
          Ask a super admin of your factory if you need it.
        </p>
        <Link
          to="/"
          className="mt-5 inline-block rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800"
        >
          Back to the dashboard
        </Link>
      </div>
    </>
  );
}
