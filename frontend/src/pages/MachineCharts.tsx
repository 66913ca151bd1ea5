import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { downloadTelemetryCsv, queryTelemetry } from '../api/telemetry';
import {
  telemetryAggs,
  type DeviceParameter,
  type TelemetryAgg,
  type TelemetryQuery,
  type TelemetrySeries,
} from '../api/types';
import { Card } from '../components/Card';
import { formatValue } from '../components/format';
import { buttonClass, FormError, inputClass } from '../components/Form';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import {
  displayZone,
  formatInZone,
  fromWallClock,
  tickFormatter,
  toWallClock,
  zoneNote,
} from '../components/timeZone';
import {
  MAX_CHARTED_PARAMS,
  rangePresets,
  rangeProblem,
  useTelemetryView,
  type TelemetryView,
} from '../hooks/useTelemetryView';
import { useParameters } from './MachineParameters';

/** Points per series asked for: about one per pixel of a wide chart. */
export const CHART_MAX_POINTS = 1000;

const aggLabels: Record<TelemetryAgg, string> = {
  avg: 'Average',
  min: 'Minimum',
  max: 'Maximum',
  sum: 'Sum',
  count: 'Count',
  first: 'First',
  last: 'Last',
};

/** "raw" or "1m avg": what each point of the answer stands for. */
export function intervalLabel(interval: string, agg: TelemetryAgg | null): string {
  return interval === 'raw' || !agg ? 'raw' : `${interval} ${agg}`;
}

function saveAsFile(filename: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has started the download; the object URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function CustomRangeForm({
  view,
  zone,
  onDone,
}: {
  view: TelemetryView;
  zone: string;
  onDone: () => void;
}) {
  const id = useId();
  const [from, setFrom] = useState(() => toWallClock(view.from, zone));
  const [to, setTo] = useState(() => toWallClock(view.to, zone));
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const fromMs = fromWallClock(from, zone);
    const toMs = fromWallClock(to, zone);
    const why = rangeProblem(fromMs, toMs);
    setProblem(why);
    if (why === null) {
      view.setCustom(fromMs!, toMs!);
      onDone();
    }
  };

  return (
    <form
      noValidate
      onSubmit={submit}
      aria-label="Custom range"
      className="mt-3 flex flex-wrap items-end gap-3 rounded-md border border-slate-200 bg-slate-50 p-3"
    >
      <div>
        <label htmlFor={`${id}-from`} className="block text-xs font-medium text-slate-700">
          From
        </label>
        <input
          id={`${id}-from`}
          type="datetime-local"
          value={from}
          onChange={(e) => setFrom(e.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          className={inputClass(Boolean(problem))}
        />
      </div>
      <div>
        <label htmlFor={`${id}-to`} className="block text-xs font-medium text-slate-700">
          To
        </label>
        <input
          id={`${id}-to`}
          type="datetime-local"
          value={to}
          onChange={(e) => setTo(e.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          className={inputClass(Boolean(problem))}
        />
      </div>
      <button type="submit" className={buttonClass.primary}>
        Apply
      </button>
      <button type="button" className={buttonClass.secondary} onClick={onDone}>
        Cancel
      </button>
      <p className="w-full text-xs text-slate-500">Times in {zone}.</p>
      {problem ? (
        <p id={`${id}-problem`} role="alert" className="w-full text-sm text-red-700">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

function ParameterPicker({
  parameters,
  charted,
  view,
}: {
  parameters: DeviceParameter[];
  charted: string[];
  view: TelemetryView;
}) {
  const toggle = (key: string, on: boolean) => {
    const next = on ? [...charted, key] : charted.filter((k) => k !== key);
    // Keep the list's order, so charts do not jump around as they are ticked.
    view.setParams(parameters.map((p) => p.parameter_key).filter((k) => next.includes(k)));
  };
  return (
    <fieldset className="mt-3">
      <legend className="text-xs font-medium text-slate-700">
        Charted parameters{' '}
        <span className="font-normal text-slate-500">
          {view.params ? '(chosen for this view)' : '(the KPI selection)'}
        </span>
      </legend>
      <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
        {parameters.map((p) => {
          const on = charted.includes(p.parameter_key);
          return (
            <label key={p.parameter_key} className="flex items-center gap-1.5 text-sm">
              <input
                type="checkbox"
                checked={on}
                // The last one stays: an empty choice would mean "the KPIs" again.
                disabled={
                  (on && charted.length === 1) || (!on && charted.length >= MAX_CHARTED_PARAMS)
                }
                onChange={(e) => toggle(p.parameter_key, e.target.checked)}
              />
              <span className="font-mono text-xs">{p.parameter_key}</span>
            </label>
          );
        })}
        {view.params ? (
          <button type="button" className={buttonClass.small} onClick={() => view.setParams(null)}>
            Back to the KPI selection
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}

function SeriesChart({
  parameter,
  series,
  from,
  to,
  zone,
}: {
  parameter: DeviceParameter | undefined;
  series: TelemetrySeries;
  from: number;
  to: number;
  zone: string;
}) {
  const key = series.param;
  const unit = parameter?.unit ?? null;
  const title = parameter?.display_name ? `${parameter.display_name} (${key})` : key;
  const data = series.points.map(([t, v]) => ({ t, v }));
  return (
    <figure
      data-testid={`chart-${key}`}
      className="rounded-md border border-slate-200 p-3"
      aria-label={title}
    >
      <figcaption className="mb-2 flex items-baseline justify-between gap-2 text-sm">
        <span className="font-semibold text-slate-800">{title}</span>
        <span className="text-xs text-slate-500" data-testid={`chart-${key}-count`}>
          {series.points.length} {series.points.length === 1 ? 'point' : 'points'}
          {unit ? ` · ${unit}` : ''}
        </span>
      </figcaption>
      {data.length === 0 ? (
        <EmptyPanel message="No data in this range." />
      ) : (
        <ResponsiveContainer
          width="100%"
          height={240}
          initialDimension={{ width: 600, height: 240 }}
        >
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={[from, to]}
              allowDataOverflow
              tickFormatter={tickFormatter(to - from, zone)}
              minTickGap={40}
              fontSize={11}
            />
            <YAxis
              width={64}
              fontSize={11}
              domain={['auto', 'auto']}
              tickFormatter={(v: number) => formatValue(v, null)}
              label={
                unit
                  ? { value: unit, angle: -90, position: 'insideLeft', fontSize: 11, dx: 4 }
                  : undefined
              }
            />
            <Tooltip
              labelFormatter={(label) =>
                typeof label === 'number' ? formatInZone(label, zone) : label
              }
              formatter={(value) => [
                typeof value === 'number' ? formatValue(value, unit) : String(value),
                key,
              ]}
            />
            <Line
              type="linear"
              dataKey="v"
              name={key}
              stroke="#0369a1"
              strokeWidth={1.5}
              dot={data.length <= 60}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}

/**
 * A chart per charted parameter over the chosen range, with the aggregation, the interval the
 * server picked, and a CSV export of exactly the same query.
 */
export function MachineCharts({ deviceId }: { deviceId: string }) {
  const view = useTelemetryView();
  const parameters = useParameters(deviceId);
  const [customOpen, setCustomOpen] = useState(false);
  const aggId = useId();

  const all = parameters.data ?? [];
  const charted = (
    view.params
      ? view.params.filter((k) => all.some((p) => p.parameter_key === k))
      : all.filter((p) => p.is_kpi_selected).map((p) => p.parameter_key)
  ).slice(0, MAX_CHARTED_PARAMS);

  const query: TelemetryQuery = {
    params: charted,
    from: new Date(view.from).toISOString(),
    to: new Date(view.to).toISOString(),
    agg: view.agg,
    interval: 'auto',
    max_points: CHART_MAX_POINTS,
  };
  const telemetry = useQuery({
    queryKey: ['telemetry', deviceId, query],
    queryFn: ({ signal }) => queryTelemetry(deviceId, query, signal),
    enabled: charted.length > 0,
    placeholderData: keepPreviousData,
  });
  const csv = useMutation({
    mutationFn: () => downloadTelemetryCsv(deviceId, query),
    onSuccess: (file) => saveAsFile(file.filename, file.text),
  });

  const answer = telemetry.data;
  const zone = displayZone(answer?.timezone);
  const isRaw = answer?.interval === 'raw';

  let body;
  if (parameters.isPending) body = <LoadingRows rows={4} label="Loading parameters…" />;
  else if (parameters.isError)
    body = (
      <ErrorPanel
        title="The parameters are unavailable"
        error={parameters.error}
        onRetry={() => void parameters.refetch()}
        retrying={parameters.isFetching}
      />
    );
  else if (all.length === 0)
    body = <EmptyPanel message="Nothing to chart yet: the machine has sent no telemetry." />;
  else if (charted.length === 0)
    body = (
      <EmptyPanel message="No parameter is charted: tick KPI for a parameter in the list, or pick parameters above." />
    );
  else if (telemetry.isPending) body = <LoadingRows rows={6} label="Loading telemetry…" />;
  else if (telemetry.isError)
    body = (
      <ErrorPanel
        title="The telemetry is unavailable"
        error={telemetry.error}
        onRetry={() => void telemetry.refetch()}
        retrying={telemetry.isFetching}
      />
    );
  else
    body = (
      <div className="grid gap-4 lg:grid-cols-2">
        {telemetry.data.series.map((series) => (
          <SeriesChart
            key={series.param}
            parameter={all.find((p) => p.parameter_key === series.param)}
            series={series}
            from={view.from}
            to={view.to}
            zone={zone.zone}
          />
        ))}
      </div>
    );

  return (
    <Card
      title="Telemetry"
      meta={telemetry.isFetching && !telemetry.isPending ? 'Updating…' : undefined}
    >
      <div className="flex flex-wrap items-end gap-x-6 gap-y-3">
        <div role="group" aria-label="Range" className="flex flex-wrap gap-1">
          {rangePresets.map((preset) => (
            <button
              key={preset.key}
              type="button"
              aria-pressed={view.range === preset.key}
              className={`${buttonClass.small} aria-pressed:border-sky-700 aria-pressed:bg-sky-700 aria-pressed:text-white`}
              onClick={() => {
                setCustomOpen(false);
                view.setPreset(preset.key);
              }}
            >
              {preset.label}
            </button>
          ))}
          <button
            type="button"
            aria-pressed={view.range === 'custom'}
            aria-expanded={customOpen}
            className={`${buttonClass.small} aria-pressed:border-sky-700 aria-pressed:bg-sky-700 aria-pressed:text-white`}
            onClick={() => setCustomOpen((open) => !open)}
          >
            Custom…
          </button>
        </div>
        <div>
          <label htmlFor={aggId} className="block text-xs font-medium text-slate-700">
            Aggregation
          </label>
          <select
            id={aggId}
            value={view.agg}
            disabled={isRaw}
            aria-describedby={isRaw ? `${aggId}-raw` : undefined}
            onChange={(e) => view.setAgg(e.target.value as TelemetryAgg)}
            className="mt-1 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm disabled:opacity-60"
          >
            {telemetryAggs.map((agg) => (
              <option key={agg} value={agg}>
                {aggLabels[agg]}
              </option>
            ))}
          </select>
        </div>
        <div className="flex gap-2">
          <button
            type="button"
            className={buttonClass.small}
            disabled={view.range === 'custom' || telemetry.isFetching}
            onClick={view.refresh}
          >
            Refresh
          </button>
          <button
            type="button"
            className={buttonClass.small}
            disabled={charted.length === 0 || csv.isPending}
            onClick={() => csv.mutate()}
          >
            {csv.isPending ? 'Preparing CSV…' : 'Download CSV'}
          </button>
        </div>
      </div>
      {customOpen ? (
        <CustomRangeForm view={view} zone={zone.zone} onDone={() => setCustomOpen(false)} />
      ) : null}
      {all.length > 0 ? <ParameterPicker parameters={all} charted={charted} view={view} /> : null}
      <p className="mt-3 mb-3 text-xs text-slate-500">
        <span data-testid="chart-range">
          {formatInZone(view.from, zone.zone)} – {formatInZone(view.to, zone.zone)}
        </span>
        {answer ? (
          <>
            {' · '}
            Interval:{' '}
            <span data-testid="chart-interval">{intervalLabel(answer.interval, answer.agg)}</span>
            {isRaw ? <span id={`${aggId}-raw`}> (raw points: no aggregation applies)</span> : null}
          </>
        ) : null}
        {' · '}
        <span data-testid="chart-timezone">{zoneNote(zone)}</span>
      </p>
      {csv.isError ? (
        <div className="mb-3">
          <FormError error={csv.error} />
        </div>
      ) : null}
      {body}
    </Card>
  );
}
