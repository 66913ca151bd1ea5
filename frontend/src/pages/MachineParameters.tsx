import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { listParameters, updateParameter } from '../api/devices';
import { getLatestTelemetry } from '../api/telemetry';
import type { DeviceParameter, LatestValue } from '../api/types';
import { Card } from '../components/Card';
import { buttonClass, FormError, inputClass } from '../components/Form';
import { formatDateTime, formatValue } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { TableHead } from '../components/TableHead';

export const parametersKey = (deviceId: string) => ['parameters', deviceId] as const;

/** The machine's discovered parameters; shared by the list and the charts. */
export function useParameters(deviceId: string) {
  return useQuery({
    queryKey: parametersKey(deviceId),
    queryFn: ({ signal }) => listParameters(deviceId, signal),
  });
}

/** The last value of every parameter, refreshed while the page is open. */
function useLatestValues(deviceId: string) {
  return useQuery({
    queryKey: ['telemetry-latest', deviceId],
    queryFn: ({ signal }) => getLatestTelemetry(deviceId, signal),
    refetchInterval: 30_000,
  });
}

/**
 * Ticking KPI changes the list at once and puts it back if the server refuses; only this
 * parameter's flag is restored, so a concurrent change of another row survives.
 */
function useKpiToggle(deviceId: string, key: string) {
  const queryClient = useQueryClient();
  const setFlag = (selected: boolean) =>
    queryClient.setQueryData<DeviceParameter[]>(parametersKey(deviceId), (list) =>
      list?.map((p) => (p.parameter_key === key ? { ...p, is_kpi_selected: selected } : p)),
    );
  return useMutation({
    mutationFn: (selected: boolean) =>
      updateParameter(deviceId, key, { is_kpi_selected: selected }),
    onMutate: async (selected) => {
      await queryClient.cancelQueries({ queryKey: parametersKey(deviceId) });
      setFlag(selected);
    },
    onError: (_error, selected) => setFlag(!selected),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: parametersKey(deviceId) }),
  });
}

function ParameterRow({
  deviceId,
  parameter,
  latest,
  canManage,
}: {
  deviceId: string;
  parameter: DeviceParameter;
  latest: LatestValue | undefined;
  canManage: boolean;
}) {
  const queryClient = useQueryClient();
  const [displayName, setDisplayName] = useState(parameter.display_name ?? '');
  const [unit, setUnit] = useState(parameter.unit ?? '');
  const key = parameter.parameter_key;
  const rename = useMutation({
    mutationFn: (update: { display_name: string | null; unit: string | null }) =>
      updateParameter(deviceId, key, update),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: parametersKey(deviceId) }),
  });
  const kpi = useKpiToggle(deviceId, key);
  const dirty = displayName !== (parameter.display_name ?? '') || unit !== (parameter.unit ?? '');
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
          disabled={!canManage || kpi.isPending}
          onChange={(e) => kpi.mutate(e.target.checked)}
        />
        {kpi.isError ? (
          <p role="alert" className="mt-1 max-w-40 text-xs text-red-700">
            Not saved: {kpi.error.message}
          </p>
        ) : null}
      </td>
      <td className="py-2 pr-3 text-xs" data-testid={`latest-${key}`}>
        {latest ? (
          <>
            <span data-testid={`latest-value-${key}`} className="font-mono text-sm text-slate-900">
              {formatValue(latest.value, parameter.unit)}
            </span>
            <br />
            <span className="text-slate-500">{formatDateTime(latest.time)}</span>
          </>
        ) : (
          '—'
        )}
      </td>
      <td className="py-2 pr-3 text-xs">
        {parameter.first_seen_at ? formatDateTime(parameter.first_seen_at) : '—'}
      </td>
      <td className="py-2 pr-3 text-xs">
        {parameter.last_seen_at ? formatDateTime(parameter.last_seen_at) : '—'}
      </td>
      {canManage ? (
        <td className="py-2">
          <button
            type="button"
            className={buttonClass.small}
            disabled={!dirty || rename.isPending}
            onClick={() =>
              rename.mutate({
                display_name: displayName.trim() || null,
                unit: unit.trim() || null,
              })
            }
          >
            Save
          </button>
          {rename.isError ? (
            <div className="mt-1">
              <FormError error={rename.error} />
            </div>
          ) : null}
        </td>
      ) : null}
    </tr>
  );
}

/** The parameter list: names, units, KPI choice and each parameter's last value. */
export function MachineParameters({
  deviceId,
  canManage,
}: {
  deviceId: string;
  canManage: boolean;
}) {
  const parameters = useParameters(deviceId);
  const latest = useLatestValues(deviceId);
  const latestByParam = new Map((latest.data ?? []).map((v) => [v.param, v]));

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
      <>
        {latest.isError ? (
          <p role="alert" className="mb-2 text-xs text-red-700">
            Last values are unavailable: {latest.error.message}
          </p>
        ) : null}
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <TableHead
              columns={[
                'Key',
                'Display name',
                'Unit',
                'Type',
                'KPI',
                'Last value',
                'First seen',
                'Last seen',
              ]}
              actions={canManage}
            />
            <tbody className="divide-y divide-slate-100">
              {parameters.data.map((p) => (
                <ParameterRow
                  key={p.parameter_key}
                  deviceId={deviceId}
                  parameter={p}
                  latest={latestByParam.get(p.parameter_key)}
                  canManage={canManage}
                />
              ))}
            </tbody>
          </table>
        </div>
      </>
    );
  return <Card title="Parameters">{body}</Card>;
}
