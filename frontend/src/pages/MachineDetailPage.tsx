import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { getDevice } from '../api/devices';
import type { Device } from '../api/types';
import { Card } from '../components/Card';
import { buttonClass, Field } from '../components/Form';
import { formatDateTime } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { IngestErrorsPanel } from './IngestErrorsPanel';
import { MachineCharts } from './MachineCharts';
import { MachineParameters } from './MachineParameters';
import {
  DeleteMachineDialog,
  EditMachineDialog,
  MachineStatus,
  RotateKeyDialog,
  useCanManageMachines,
} from './MachinesPage';

function Details({ device }: { device: Device }) {
  return (
    <dl className="divide-y divide-slate-100">
      <Field term="Device ID">
        <span className="font-mono">{device.device_id}</span>
      </Field>
      <Field term="Status">
        <MachineStatus device={device} />
        {device.is_enabled ? null : <span className="ml-2 text-xs text-slate-500">disabled</span>}
      </Field>
      <Field term="Type">{device.type || '—'}</Field>
      <Field term="Location">{device.location || '—'}</Field>
      <Field term="Line">{device.line || '—'}</Field>
      <Field term="Rated power">
        {device.rated_power_kw === null ? '—' : `${device.rated_power_kw} kW`}
      </Field>
      <Field term="API key">
        <span data-testid="api-key-prefix" className="font-mono">
          {device.api_key_prefix}…
        </span>
      </Field>
      <Field term="Last seen">
        {device.last_seen_at ? formatDateTime(device.last_seen_at) : 'Never'}
      </Field>
      <Field term="Registered">{formatDateTime(device.created_at)}</Field>
      <Field term="Metadata">
        {device.metadata ? (
          <pre className="overflow-x-auto font-mono text-xs">
            {JSON.stringify(device.metadata, null, 2)}
          </pre>
        ) : (
          '—'
        )}
      </Field>
    </dl>
  );
}

export function MachineDetailPage() {
  const { deviceId = '' } = useParams();
  const navigate = useNavigate();
  const canManage = useCanManageMachines();
  const [open, setOpen] = useState<'edit' | 'rotate' | 'delete' | null>(null);
  const device = useQuery({
    queryKey: ['device', deviceId],
    queryFn: ({ signal }) => getDevice(deviceId, signal),
  });

  let body;
  if (device.isPending) body = <LoadingRows rows={6} label="Loading machine…" />;
  else if (device.isError)
    body =
      device.error.status === 404 ? (
        <EmptyPanel message={`There is no machine "${deviceId}" in this factory.`} />
      ) : (
        <ErrorPanel
          title="The machine is unavailable"
          error={device.error}
          onRetry={() => void device.refetch()}
          retrying={device.isFetching}
        />
      );
  else body = <Details device={device.data} />;

  return (
    <>
      <title>{`${deviceId} · Machines · FactoryOps`}</title>
      <p className="mb-2 text-sm">
        <Link to="/machines" className="text-sky-800 hover:underline">
          ← Machines
        </Link>
      </p>
      <div className="mb-4 flex flex-wrap items-center justify-between gap-4">
        <h1 className="text-xl font-semibold text-slate-900">{device.data?.name ?? deviceId}</h1>
        {canManage && device.data ? (
          <div className="flex gap-2">
            <button type="button" className={buttonClass.secondary} onClick={() => setOpen('edit')}>
              Edit
            </button>
            <button
              type="button"
              className={buttonClass.secondary}
              onClick={() => setOpen('rotate')}
            >
              Rotate key
            </button>
            <button type="button" className={buttonClass.danger} onClick={() => setOpen('delete')}>
              Delete
            </button>
          </div>
        ) : null}
      </div>
      <div className="grid items-start gap-4 xl:grid-cols-2">
        <Card title="Machine">{body}</Card>
        {device.data ? <IngestErrorsPanel deviceId={deviceId} /> : null}
      </div>
      {device.data ? (
        <div className="mt-4 space-y-4">
          <MachineCharts deviceId={deviceId} />
          <MachineParameters deviceId={deviceId} canManage={canManage} />
        </div>
      ) : null}
      {device.data && open === 'edit' ? (
        <EditMachineDialog device={device.data} onClose={() => setOpen(null)} />
      ) : null}
      {device.data && open === 'rotate' ? (
        <RotateKeyDialog device={device.data} onClose={() => setOpen(null)} />
      ) : null}
      {device.data && open === 'delete' ? (
        <DeleteMachineDialog
          device={device.data}
          onClose={() => setOpen(null)}
          onDeleted={() => void navigate('/machines', { replace: true })}
        />
      ) : null}
    </>
  );
}
