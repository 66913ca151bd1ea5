import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { getDevice, listParameters, updateParameter } from '../api/devices';
import type { Device, DeviceParameter } from '../api/types';
import { Card } from '../components/Card';
import { buttonClass, Field, FormError, inputClass } from '../components/Form';
import { formatDateTime } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { TableHead } from '../components/TableHead';
import {
  DeleteMachineDialog,
  EditMachineDialog,
  MachineStatus,
  RotateKeyDialog,
  useCanManageMachines,
} from './MachinesPage';

function ParameterRow({
  deviceId,
  parameter,
  canManage,
}: {
  deviceId: string;
  parameter: DeviceParameter;
  canManage: boolean;
}) {
  const queryClient = useQueryClient();
  const [displayName, setDisplayName] = useState(parameter.display_name ?? '');
  const [unit, setUnit] = useState(parameter.unit ?? '');
  const mutation = useMutation({
    mutationFn: (update: Parameters<typeof updateParameter>[2]) =>
      updateParameter(deviceId, parameter.parameter_key, update),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['parameters', deviceId] }),
  });
  const dirty = displayName !== (parameter.display_name ?? '') || unit !== (parameter.unit ?? '');
  const key = parameter.parameter_key;
  return (
    <tr data-testid={`parameter-${key}`}>
      <td className="py-2 pr-3 font-mono text-xs">{key}</td>
      <td className="py-2 pr-3">
        {canManage ? (
          <input
            aria-label={`Display name of ${key}`}
            value={displayName}
            maxLength={120}
            onChange={(e) => setDisplayName(e.target.value)}
            className={inputClass(false)}
          />
        ) : (
          parameter.display_name || '—'
        )}
      </td>
      <td className="py-2 pr-3">
        {canManage ? (
          <input
            aria-label={`Unit of ${key}`}
            value={unit}
            maxLength={32}
            onChange={(e) => setUnit(e.target.value)}
            className={`${inputClass(false)} w-20`}
          />
        ) : (
          parameter.unit || '—'
        )}
      </td>
      <td className="py-2 pr-3 text-xs">{parameter.data_type}</td>
      <td className="py-2 pr-3">
        <input
          type="checkbox"
          aria-label={`${key} is a KPI`}
          checked={parameter.is_kpi_selected}
          disabled={!canManage || mutation.isPending}
          onChange={(e) => mutation.mutate({ is_kpi_selected: e.target.checked })}
        />
      </td>
      <td className="py-2 pr-3 text-xs">
        {parameter.last_seen_at ? formatDateTime(parameter.last_seen_at) : '—'}
      </td>
      {canManage ? (
        <td className="py-2">
          <button
            type="button"
            className={buttonClass.small}
            disabled={!dirty || mutation.isPending}
            onClick={() =>
              mutation.mutate({
                display_name: displayName.trim() || null,
                unit: unit.trim() || null,
              })
            }
          >
            Save
          </button>
          {mutation.isError ? (
            <div className="mt-1">
              <FormError error={mutation.error} />
            </div>
          ) : null}
        </td>
      ) : null}
    </tr>
  );
}

function Parameters({ deviceId, canManage }: { deviceId: string; canManage: boolean }) {
  const parameters = useQuery({
    queryKey: ['parameters', deviceId],
    queryFn: ({ signal }) => listParameters(deviceId, signal),
  });
  let body;
  if (parameters.isPending) body = <LoadingRows label="Loading parameters…" />;
  else if (parameters.isError)
    body = (
      <ErrorPanel
        title="The parameters are unavailable"
        error={parameters.error}
        onRetry={() => void parameters.refetch()}
        retrying={parameters.isFetching}
      />
    );
  else if (parameters.data.length === 0)
    body = (
      <EmptyPanel message="No parameters discovered yet — they appear when the machine first sends telemetry." />
    );
  else
    body = (
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <TableHead
            columns={['Key', 'Display name', 'Unit', 'Type', 'KPI', 'Last seen']}
            actions={canManage}
          />
          <tbody className="divide-y divide-slate-100">
            {parameters.data.map((p) => (
              <ParameterRow
                key={p.parameter_key}
                deviceId={deviceId}
                parameter={p}
                canManage={canManage}
              />
            ))}
          </tbody>
        </table>
      </div>
    );
  return <Card title="Parameters">{body}</Card>;
}

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
        {device.data ? <Parameters deviceId={deviceId} canManage={canManage} /> : null}
      </div>
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
