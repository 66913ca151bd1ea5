import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { getTelemetryStorage, updateRetention } from '../api/telemetry';
import type { RetentionUpdate, TelemetryStorage } from '../api/types';
import { Card } from '../components/Card';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { buttonClass, Field, FormError, splitServerError, TextField } from '../components/Form';
import { formatBytes, formatCount } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import {
  retentionFields,
  retentionLimits,
  retentionUpdate,
  shortenedBy,
  validateRetention,
  type RetentionField,
  type RetentionFields,
} from './retentionForm';

const storageKey = ['telemetry-storage'] as const;

const engineLabels: Record<string, string> = {
  embedded: 'Embedded (built into the server)',
  influxdb: 'InfluxDB',
};

const dataLabels: Record<RetentionField, string> = {
  raw_days: 'Raw points',
  rollup_days: 'Rollups (1-minute and 1-hour summaries)',
};

const days = (n: number) => `${n} days`;

function Usage({ storage }: { storage: TelemetryStorage }) {
  return (
    <>
      <dl className="divide-y divide-slate-100">
        <Field term="Engine">
          <span data-testid="storage-engine">{engineLabels[storage.engine] ?? storage.engine}</span>
        </Field>
        <Field term="Space on disk">
          {storage.bytes === null ? (
            <span data-testid="storage-bytes" className="text-slate-500">
              Not reported by this engine
            </span>
          ) : (
            <span data-testid="storage-bytes" title={`${formatCount(storage.bytes)} bytes`}>
              {formatBytes(storage.bytes)}
            </span>
          )}
        </Field>
        <Field term="Series">
          <span data-testid="storage-series">{formatCount(storage.series)}</span>{' '}
          <span className="text-xs text-slate-500">(one per machine and parameter)</span>
        </Field>
      </dl>
      {storage.series === 0 ? (
        <div className="mt-3">
          <EmptyPanel message="No telemetry stored yet. These figures grow as machines send readings." />
        </div>
      ) : null}
    </>
  );
}

function RetentionTable({ storage }: { storage: TelemetryStorage }) {
  const r = storage.retention;
  const rows: { field: RetentionField; current: number; byDefault: number }[] = [
    { field: 'raw_days', current: r.raw_days, byDefault: r.raw_days_default },
    { field: 'rollup_days', current: r.rollup_days, byDefault: r.rollup_days_default },
  ];
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead>
          <tr className="border-b border-slate-200 text-xs text-slate-500">
            <th scope="col" className="py-2 pr-3 font-medium">
              Data
            </th>
            <th scope="col" className="py-2 pr-3 font-medium">
              Kept for
            </th>
            <th scope="col" className="py-2 pr-3 font-medium">
              Server default
            </th>
            <th scope="col" className="py-2 font-medium">
              Allowed
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map(({ field, current, byDefault }) => (
            <tr key={field}>
              <th scope="row" className="py-2 pr-3 font-normal text-slate-800">
                {dataLabels[field]}
              </th>
              <td className="py-2 pr-3 font-semibold" data-testid={`retention-${field}`}>
                {days(current)}
              </td>
              <td className="py-2 pr-3">{days(byDefault)}</td>
              <td className="py-2 whitespace-nowrap">
                {retentionLimits[field].min} to {days(retentionLimits[field].max)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="mt-2 text-xs text-slate-500" data-testid="retention-source">
        {r.overridden
          ? 'This factory has its own retention.'
          : 'This factory follows the server defaults.'}{' '}
        Expired data is deleted when the server starts and every six hours after, not at the moment
        a change is saved.
      </p>
    </div>
  );
}

function RetentionForm({ storage }: { storage: TelemetryStorage }) {
  const queryClient = useQueryClient();
  const current = storage.retention;
  const [fields, setFields] = useState<RetentionFields>(() => retentionFields(current));
  const [submitted, setSubmitted] = useState(false);
  const [unchanged, setUnchanged] = useState(false);
  const [confirming, setConfirming] = useState<RetentionUpdate | null>(null);
  const mutation = useMutation({
    mutationFn: updateRetention,
    onSuccess: (data) => {
      queryClient.setQueryData(storageKey, data);
      setFields(retentionFields(data.retention));
      setSubmitted(false);
    },
  });

  const errors = submitted ? validateRetention(fields) : {};
  const server = splitServerError(mutation.error, {
    raw_days: 'raw_days',
    rollup_days: 'rollup_days',
  });
  const fieldError = (field: RetentionField) =>
    errors[field] ?? (server.field === field ? server.message! : undefined);

  function change(field: RetentionField, value: string) {
    setFields((previous) => ({ ...previous, [field]: value }));
    setUnchanged(false);
    // An earlier answer no longer describes what the form holds.
    mutation.reset();
  }

  function send(update: RetentionUpdate) {
    setUnchanged(false);
    mutation.reset();
    if (Object.keys(shortenedBy(update, current)).length > 0) setConfirming(update);
    else mutation.mutate(update);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(validateRetention(fields)).length > 0) return;
    const update = retentionUpdate(fields, current);
    if (Object.keys(update).length === 0) {
      mutation.reset();
      setUnchanged(true);
      return;
    }
    send(update);
  }

  function restoreDefaults() {
    setSubmitted(false);
    send({ raw_days: null, rollup_days: null });
  }

  const shorter = confirming ? shortenedBy(confirming, current) : {};
  return (
    <>
      <form noValidate onSubmit={submit} className="mt-4 space-y-4 border-t border-slate-200 pt-4">
        <h3 className="text-sm font-semibold text-slate-800">Change retention</h3>
        <div className="grid gap-4 sm:grid-cols-2">
          {(Object.keys(retentionLimits) as RetentionField[]).map((field) => (
            <TextField
              key={field}
              name={field}
              label={field === 'raw_days' ? 'Raw points (days)' : 'Rollups (days)'}
              type="number"
              value={fields[field]}
              onChange={(value) => change(field, value)}
              hint={`From ${retentionLimits[field].min} to ${retentionLimits[field].max} days.`}
              error={fieldError(field)}
            />
          ))}
        </div>
        <FormError error={server.general} />
        {unchanged ? (
          <p role="status" className="text-sm text-slate-600">
            These values are already in force; nothing to save.
          </p>
        ) : null}
        {mutation.isSuccess ? (
          <p
            role="status"
            className="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900"
          >
            Retention saved: raw points are kept for {days(mutation.data.retention.raw_days)},
            rollups for {days(mutation.data.retention.rollup_days)}.
          </p>
        ) : null}
        <div className="flex flex-wrap justify-end gap-2">
          {current.overridden ? (
            <button
              type="button"
              className={buttonClass.secondary}
              onClick={restoreDefaults}
              disabled={mutation.isPending}
            >
              Restore defaults
            </button>
          ) : null}
          <button type="submit" className={buttonClass.primary} disabled={mutation.isPending}>
            {mutation.isPending && !confirming ? 'Saving…' : 'Save retention'}
          </button>
        </div>
      </form>
      {confirming ? (
        <ConfirmDialog
          title="Shorten retention?"
          confirmLabel="Shorten and delete older data"
          pendingLabel="Saving…"
          tone="danger"
          isPending={mutation.isPending}
          error={null}
          onConfirm={() => mutation.mutate(confirming, { onSettled: () => setConfirming(null) })}
          onClose={() => setConfirming(null)}
        >
          <p className="text-sm text-slate-700">
            Shortening retention deletes this factory&apos;s older telemetry at the next retention
            run (within six hours). It cannot be recovered.
          </p>
          <ul className="mt-2 list-disc pl-5 text-sm text-slate-700">
            {shorter.raw_days !== undefined ? (
              <li>Raw points older than {days(shorter.raw_days)} will be deleted.</li>
            ) : null}
            {shorter.rollup_days !== undefined ? (
              <li>Rollups older than {days(shorter.rollup_days)} will be deleted.</li>
            ) : null}
          </ul>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

export function StoragePage() {
  const storage = useQuery({
    queryKey: storageKey,
    queryFn: ({ signal }) => getTelemetryStorage(signal),
  });

  let content;
  if (storage.isPending) {
    content = (
      <>
        <Card title="Usage">
          <LoadingRows rows={3} label="Loading storage use…" />
        </Card>
        <Card title="Retention">
          <LoadingRows rows={2} label="Loading retention…" />
        </Card>
      </>
    );
  } else if (storage.isError) {
    content = (
      <Card title="Usage">
        <ErrorPanel
          title="Storage information is unavailable"
          error={storage.error}
          onRetry={() => void storage.refetch()}
          retrying={storage.isFetching}
        />
      </Card>
    );
  } else {
    content = (
      <>
        <Card title="Usage">
          <Usage storage={storage.data} />
        </Card>
        <Card title="Retention">
          <RetentionTable storage={storage.data} />
          <RetentionForm storage={storage.data} />
        </Card>
      </>
    );
  }

  return (
    <>
      <title>Storage · FactoryOps</title>
      <div className="mb-4">
        <h1 className="text-xl font-semibold text-slate-900">Storage</h1>
        <p className="text-sm text-slate-500">
          How much telemetry this factory stores, and how long it is kept.
        </p>
      </div>
      <div className="space-y-4">{content}</div>
    </>
  );
}
