import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import {
  createDevice,
  deleteDevice,
  listDevices,
  rotateDeviceKey,
  updateDevice,
} from '../api/devices';
import type { ApiError } from '../api/errors';
import type { Device, DeviceWithKey } from '../api/types';
import { can } from '../auth/permissions';
import { Card } from '../components/Card';
import { ConfirmDialog, DialogFooter } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { buttonClass, CopyButton, FormError, inputClass, TextField } from '../components/Form';
import { formatDateTime } from '../components/format';
import { Pager } from '../components/Pager';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { StatusBadge, type BadgeTone } from '../components/StatusBadge';
import { TableHead } from '../components/TableHead';
import { COUNTS_REFRESH_MS, useAlertCounts } from '../hooks/useAlertFeed';
import { useSearchParamState } from '../hooks/useSearchParamState';
import { useSessionStore } from '../stores/session';
import {
  emptyMachine,
  fieldsOf,
  MachineFormFields,
  toCreateRequest,
  toUpdateRequest,
  validateMachine,
  type MachineErrors,
  type MachineFields,
} from './machineForm';

export const PAGE_SIZE = 20;
export const SEARCH_DEBOUNCE_MS = 300;

const statusTone: Record<Device['status'], BadgeTone> = {
  online: 'good',
  offline: 'bad',
  unknown: 'neutral',
};

export function MachineStatus({ device }: { device: Device }) {
  return <StatusBadge tone={statusTone[device.status]} label={device.status} />;
}

/** "2 alerts", linking to the machine's unresolved alerts; nothing when it has none. */
export function MachineAlertBadge({ deviceId, count }: { deviceId: string; count: number }) {
  if (count <= 0) return null;
  return (
    <Link
      to={`/alerts?status=open,acknowledged&device_id=${encodeURIComponent(deviceId)}`}
      aria-label={`${count} unresolved ${count === 1 ? 'alert' : 'alerts'} on ${deviceId}`}
      className="ml-2"
    >
      <StatusBadge
        tone="bad"
        label={`${count} ${count === 1 ? 'alert' : 'alerts'}`}
        testId="machine-alerts"
      />
    </Link>
  );
}

export function useCanManageMachines() {
  return can(
    useSessionStore((state) => state.session?.user),
    'manage_machines',
  );
}

/** The key, once. Closing the panel discards it; the server keeps only its hash. */
export function ApiKeyPanel({ result, onDone }: { result: DeviceWithKey; onDone: () => void }) {
  return (
    <div data-testid="api-key-panel">
      <div
        role="alert"
        className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900"
      >
        Copy this key now and store it in the machine&apos;s configuration. It is shown only once
        and cannot be shown again; if it is lost, rotate the key.
      </div>
      <p className="mt-3 text-sm text-slate-700">
        API key for <span className="font-mono">{result.device.device_id}</span>
      </p>
      <div className="mt-1 flex items-center gap-2">
        <code
          data-testid="api-key"
          className="min-w-0 flex-1 rounded border border-slate-200 bg-slate-50 px-2 py-1.5 font-mono text-xs break-all"
        >
          {result.api_key}
        </code>
        <CopyButton text={result.api_key} label="Copy key" />
      </div>
      <div className="mt-4 flex justify-end">
        <button type="button" className={buttonClass.primary} onClick={onDone}>
          I have stored the key
        </button>
      </div>
    </div>
  );
}

/** Puts a 400 naming a form field next to that field; returns the rest as general. */
function withServerError(
  errors: MachineErrors,
  error: ApiError | null,
): { errors: MachineErrors; general: ApiError | null } {
  if (error?.status === 400 && error.field && error.field in emptyMachine) {
    return { errors: { ...errors, [error.field]: error.message }, general: null };
  }
  if (error?.status === 409) {
    return { errors: { ...errors, device_id: error.message }, general: null };
  }
  return { errors, general: error };
}

function RegisterDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: createDevice,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['devices'] }),
  });
  const [fields, setFields] = useState<MachineFields>(emptyMachine);
  const [submitted, setSubmitted] = useState(false);

  if (mutation.isSuccess) {
    return (
      <Dialog title="Machine registered" onClose={onClose} wide>
        <ApiKeyPanel result={mutation.data} onDone={onClose} />
      </Dialog>
    );
  }

  const shown = withServerError(submitted ? validateMachine(fields, true) : {}, mutation.error);

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(validateMachine(fields, true)).length > 0) return;
    mutation.mutate(toCreateRequest(fields));
  }

  return (
    <Dialog title="Register machine" onClose={onClose} wide>
      <form noValidate onSubmit={submit} className="space-y-4">
        <MachineFormFields
          fields={fields}
          errors={shown.errors}
          creating
          onChange={(name, value) => {
            setFields({ ...fields, [name]: value });
            if (mutation.isError) mutation.reset();
          }}
        />
        <FormError error={shown.general} />
        <DialogFooter
          onCancel={onClose}
          label="Register"
          pendingLabel="Registering…"
          isPending={mutation.isPending}
        />
      </form>
    </Dialog>
  );
}

export function EditMachineDialog({ device, onClose }: { device: Device; onClose: () => void }) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: (fields: MachineFields & { is_enabled: boolean }) =>
      updateDevice(device.device_id, { ...toUpdateRequest(fields), is_enabled: fields.is_enabled }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['device', device.device_id], updated);
      void queryClient.invalidateQueries({ queryKey: ['devices'] });
      onClose();
    },
  });
  const [fields, setFields] = useState<MachineFields>(() => fieldsOf(device));
  const [enabled, setEnabled] = useState(device.is_enabled);
  const [submitted, setSubmitted] = useState(false);
  const shown = withServerError(submitted ? validateMachine(fields, false) : {}, mutation.error);

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(validateMachine(fields, false)).length > 0) return;
    mutation.mutate({ ...fields, is_enabled: enabled });
  }

  return (
    <Dialog title={`Edit ${device.device_id}`} onClose={onClose} wide>
      <form noValidate onSubmit={submit} className="space-y-4">
        <MachineFormFields
          fields={fields}
          errors={shown.errors}
          creating={false}
          onChange={(name, value) => setFields({ ...fields, [name]: value })}
        />
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          Enabled (accepts telemetry)
        </label>
        <FormError error={shown.general} />
        <DialogFooter
          onCancel={onClose}
          label="Save"
          pendingLabel="Saving…"
          isPending={mutation.isPending}
        />
      </form>
    </Dialog>
  );
}

export function RotateKeyDialog({ device, onClose }: { device: Device; onClose: () => void }) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: () => rotateDeviceKey(device.device_id),
    onSuccess: (result) => {
      queryClient.setQueryData(['device', device.device_id], result.device);
      void queryClient.invalidateQueries({ queryKey: ['devices'] });
    },
  });
  if (mutation.isSuccess) {
    return (
      <Dialog title="New API key" onClose={onClose} wide>
        <ApiKeyPanel result={mutation.data} onDone={onClose} />
      </Dialog>
    );
  }
  return (
    <ConfirmDialog
      title="Rotate API key"
      confirmLabel="Rotate key"
      pendingLabel="Rotating…"
      tone="danger"
      onConfirm={() => mutation.mutate()}
      isPending={mutation.isPending}
      error={mutation.error}
      onClose={onClose}
    >
      <p className="text-sm text-slate-700">
        A new key is issued for <span className="font-mono">{device.device_id}</span> and the
        current key (<span className="font-mono">{device.api_key_prefix}…</span>) stops working at
        once. The machine sends nothing until it is configured with the new key.
      </p>
    </ConfirmDialog>
  );
}

export function DeleteMachineDialog({
  device,
  onClose,
  onDeleted,
}: {
  device: Device;
  onClose: () => void;
  onDeleted?: () => void;
}) {
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState('');
  const mutation = useMutation({
    mutationFn: () => deleteDevice(device.device_id),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ['device', device.device_id] });
      void queryClient.invalidateQueries({ queryKey: ['devices'] });
      onClose();
      onDeleted?.();
    },
  });
  return (
    <Dialog title="Delete machine" onClose={onClose}>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (typed === device.device_id) mutation.mutate();
        }}
        className="space-y-3"
      >
        <p className="text-sm text-slate-700">
          This removes <strong>{device.name}</strong> and its key. Type{' '}
          <code className="font-mono">{device.device_id}</code> to confirm.
        </p>
        <TextField name="confirm_device_id" label="Device ID" value={typed} onChange={setTyped} />
        <FormError error={mutation.error} />
        <DialogFooter
          onCancel={onClose}
          label="Delete machine"
          pendingLabel="Deleting…"
          isPending={mutation.isPending}
          tone="danger"
          disabled={typed !== device.device_id}
        />
      </form>
    </Dialog>
  );
}

type Open =
  | { kind: 'register' }
  | { kind: 'edit'; device: Device }
  | { kind: 'rotate'; device: Device }
  | { kind: 'delete'; device: Device };

const filterNames = ['type', 'line', 'location'] as const;

export function MachinesPage() {
  const canManage = useCanManageMachines();
  const [params, setParam] = useSearchParamState();
  const search = params.get('search') ?? '';
  const offset = Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0);
  const filters = Object.fromEntries(filterNames.map((n) => [n, params.get(n) ?? '']));
  const [typed, setTyped] = useState(search);
  const [open, setOpen] = useState<Open | null>(null);

  // The search box writes to the address only after typing pauses.
  useEffect(() => {
    if (typed === search) return;
    const timer = setTimeout(() => setParam('search', typed.trim()), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typed]);

  const query = { limit: PAGE_SIZE, offset, search, ...filters };
  const devices = useQuery({
    queryKey: ['devices', query],
    queryFn: ({ signal }) => listDevices(query, signal),
    placeholderData: keepPreviousData,
  });
  const filtered = search !== '' || filterNames.some((n) => filters[n] !== '');
  // The badges are extra: without counts the list still shows, just without them.
  const alertCounts = useAlertCounts(COUNTS_REFRESH_MS);
  const byDevice = alertCounts.data?.by_device ?? {};

  let body;
  if (devices.isPending) body = <LoadingRows rows={5} label="Loading machines…" />;
  else if (devices.isError)
    body = (
      <ErrorPanel
        title="The machine list is unavailable"
        error={devices.error}
        onRetry={() => void devices.refetch()}
        retrying={devices.isFetching}
      />
    );
  else if (devices.data.items.length === 0)
    body = (
      <EmptyPanel
        message={
          filtered
            ? 'No machine matches this search.'
            : canManage
              ? 'No machines yet. Register the first one to get its API key.'
              : 'No machines registered yet.'
        }
      />
    );
  else
    body = (
      <>
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <TableHead
              columns={['Device ID', 'Name', 'Type', 'Line', 'Location', 'Status', 'Last seen']}
              actions={canManage}
            />
            <tbody className="divide-y divide-slate-100">
              {devices.data.items.map((device) => (
                <tr key={device.device_id} data-testid={`machine-row-${device.device_id}`}>
                  <td className="py-2 pr-3 font-mono text-xs">
                    <Link
                      to={`/machines/${encodeURIComponent(device.device_id)}`}
                      className="text-sky-800 hover:underline"
                    >
                      {device.device_id}
                    </Link>
                  </td>
                  <td className="py-2 pr-3">{device.name}</td>
                  <td className="py-2 pr-3">{device.type || '—'}</td>
                  <td className="py-2 pr-3">{device.line || '—'}</td>
                  <td className="py-2 pr-3">{device.location || '—'}</td>
                  <td className="py-2 pr-3">
                    <MachineStatus device={device} />
                    <MachineAlertBadge
                      deviceId={device.device_id}
                      count={byDevice[device.device_id] ?? 0}
                    />
                  </td>
                  <td className="py-2 pr-3 text-xs">
                    {device.last_seen_at ? formatDateTime(device.last_seen_at) : 'Never'}
                  </td>
                  {canManage ? (
                    <td className="space-x-1 py-2 whitespace-nowrap">
                      <button
                        type="button"
                        className={buttonClass.small}
                        aria-label={`Edit ${device.device_id}`}
                        onClick={() => setOpen({ kind: 'edit', device })}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        className={buttonClass.small}
                        aria-label={`Rotate key of ${device.device_id}`}
                        onClick={() => setOpen({ kind: 'rotate', device })}
                      >
                        Rotate key
                      </button>
                      <button
                        type="button"
                        className={buttonClass.small}
                        aria-label={`Delete ${device.device_id}`}
                        onClick={() => setOpen({ kind: 'delete', device })}
                      >
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager
          offset={devices.data.offset}
          limit={PAGE_SIZE}
          total={devices.data.total}
          shown={devices.data.items.length}
          onChange={(value) => setParam('offset', value === 0 ? '' : String(value))}
        />
      </>
    );

  return (
    <>
      <title>Machines · FactoryOps</title>
      <div className="mb-4 flex items-center justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold text-slate-900">Machines</h1>
          <p className="text-sm text-slate-500">Registered machines and their connection state.</p>
        </div>
        {canManage ? (
          <button
            type="button"
            className={buttonClass.primary}
            onClick={() => setOpen({ kind: 'register' })}
          >
            Register machine
          </button>
        ) : null}
      </div>
      <Card title="Registry">
        <div className="mb-3 grid gap-2 sm:grid-cols-4" role="search">
          <label className="text-xs text-slate-600">
            Search
            <input
              type="search"
              value={typed}
              onChange={(event) => setTyped(event.target.value)}
              placeholder="Device ID or name"
              className={inputClass(false)}
            />
          </label>
          {filterNames.map((name) => (
            <label key={name} className="text-xs text-slate-600">
              {name[0]!.toUpperCase() + name.slice(1)}
              <input
                type="text"
                value={filters[name]}
                onChange={(event) => setParam(name, event.target.value)}
                className={inputClass(false)}
              />
            </label>
          ))}
        </div>
        {body}
      </Card>
      {open?.kind === 'register' ? <RegisterDialog onClose={() => setOpen(null)} /> : null}
      {open?.kind === 'edit' ? (
        <EditMachineDialog device={open.device} onClose={() => setOpen(null)} />
      ) : null}
      {open?.kind === 'rotate' ? (
        <RotateKeyDialog device={open.device} onClose={() => setOpen(null)} />
      ) : null}
      {open?.kind === 'delete' ? (
        <DeleteMachineDialog device={open.device} onClose={() => setOpen(null)} />
      ) : null}
    </>
  );
}
