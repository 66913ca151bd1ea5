import { MachinesCountCard } from '../components/MachinesCountCard';
import { ServerInfoCard } from '../components/ServerInfoCard';
import { SystemStatusCard } from '../components/SystemStatusCard';

export function DashboardPage() {
  return (
    <>
      <title>Dashboard · FactoryOps</title>
      <div className="mb-4">
        <h1 className="text-xl font-semibold text-slate-900">Dashboard</h1>
        <p className="text-sm text-slate-500">Live state of this FactoryOps server.</p>
      </div>
      <div className="grid items-start gap-4 lg:grid-cols-2">
        <SystemStatusCard />
        <ServerInfoCard />
        <MachinesCountCard />
      </div>
    </>
  );
}
