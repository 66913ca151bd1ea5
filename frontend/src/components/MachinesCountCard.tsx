import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { listDevices } from '../api/devices';
import { Card } from './Card';
import { ErrorPanel, LoadingRows } from './QueryStates';

/** How many machines the factory has registered: `GET /api/v1/devices?limit=1`, total only. */
export function MachinesCountCard() {
  const count = useQuery({
    queryKey: ['devices', 'count'],
    queryFn: ({ signal }) => listDevices({ limit: 1 }, signal),
  });
  let body;
  if (count.isPending) body = <LoadingRows rows={1} label="Counting machines…" />;
  else if (count.isError)
    body = (
      <ErrorPanel
        title="The machine count is unavailable"
        error={count.error}
        onRetry={() => void count.refetch()}
        retrying={count.isFetching}
      />
    );
  else
    body = (
      <div className="flex items-baseline justify-between">
        <span data-testid="machine-count" className="text-3xl font-semibold text-slate-900">
          {count.data.total}
        </span>
        <Link to="/machines" className="text-sm text-sky-800 hover:underline">
          {count.data.total === 0 ? 'Register a machine' : 'View machines'}
        </Link>
      </div>
    );
  return <Card title="Machines">{body}</Card>;
}
