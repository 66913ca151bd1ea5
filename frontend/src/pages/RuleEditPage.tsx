import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { listAllDevices } from '../api/devices';
import type { ApiError } from '../api/errors';
import {
  createRule,
  deleteRule,
  getRule,
  testDraftRule,
  testSavedRule,
  updateRule,
} from '../api/rules';
import {
  comparisonOps,
  conditionKinds,
  severities,
  weekDays,
  windowFunctions,
  type ConditionKind,
  type Rule,
  type RuleTestResult,
} from '../api/types';
import { Card } from '../components/Card';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { buttonClass, FormError, inputClass, SelectField, TextField } from '../components/Form';
import { formatDateTime } from '../components/format';
import { EmptyPanel, ErrorPanel, LoadingRows } from '../components/QueryStates';
import { TableHead } from '../components/TableHead';
import { ruleKeys, useCanManageRules } from './RulesPage';
import {
  emptyCondition,
  emptyRule,
  formatSeconds,
  MAX_CONDITIONS,
  ruleFields,
  toDraft,
  validateRule,
  withServerError,
  type ConditionFields,
  type RuleErrors,
  type RuleFields,
  type ScopeKind,
} from './ruleForm';

const kindLabels: Record<ConditionKind, string> = {
  threshold: 'Value compared with a threshold',
  between: 'Value between two limits',
  outside: 'Value outside two limits',
  window: 'Average, minimum, maximum or sum over a window',
  rate: 'Rate of change per minute',
  no_data: 'No data for a while',
};

const scopeLabels: Record<ScopeKind, string> = {
  all: 'All machines',
  devices: 'Machines I pick',
  type: 'Machines of a type',
  line: 'Machines of a line',
};

const dayLabels: Record<(typeof weekDays)[number], string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};

const options = <T extends string>(values: readonly T[], label: (v: T) => string = (v) => v) =>
  values.map((value) => ({ value, label: label(value) }));

/** A group of inputs named by its legend, with one error message for the whole group. */
function Group({
  legend,
  error,
  hint,
  children,
}: {
  legend: string;
  error?: string;
  hint?: string;
  children: ReactNode;
}) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null]
    .filter(Boolean)
    .join(' ');
  return (
    <fieldset aria-describedby={describedBy || undefined} aria-invalid={error ? true : undefined}>
      <legend className="text-sm font-medium text-slate-800">{legend}</legend>
      {hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      <div className="mt-1">{children}</div>
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-xs font-medium text-red-700">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

function secondsHint(value: string, extra: string): string {
  const trimmed = value.trim();
  return /^\d+$/.test(trimmed) ? `${extra} (${formatSeconds(Number(trimmed))})` : extra;
}

function MachinePicker({
  selected,
  onChange,
  error,
}: {
  selected: string[];
  onChange: (ids: string[]) => void;
  error?: string;
}) {
  const [filter, setFilter] = useState('');
  const devices = useQuery({
    queryKey: ['devices', 'all'],
    queryFn: ({ signal }) => listAllDevices(signal),
  });
  let list;
  if (devices.isPending) list = <LoadingRows rows={3} label="Loading machines…" />;
  else if (devices.isError)
    list = (
      <ErrorPanel
        title="The machine list is unavailable"
        error={devices.error}
        onRetry={() => void devices.refetch()}
        retrying={devices.isFetching}
      />
    );
  else if (devices.data.length === 0)
    list = <EmptyPanel message="No machines are registered yet." />;
  else {
    const needle = filter.trim().toLowerCase();
    const shown = devices.data.filter(
      (d) =>
        needle === '' ||
        d.device_id.toLowerCase().includes(needle) ||
        d.name.toLowerCase().includes(needle),
    );
    // Machines of the rule that are gone stay listed, so they can be unticked.
    const gone = selected.filter((id) => !devices.data.some((d) => d.device_id === id));
    list = (
      <ul className="max-h-56 space-y-1 overflow-y-auto rounded-md border border-slate-200 p-2">
        {[
          ...shown.map((d) => ({ id: d.device_id, name: d.name })),
          ...gone.map((id) => ({ id, name: '(not registered)' })),
        ].map((machine) => (
          <li key={machine.id}>
            <label className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                checked={selected.includes(machine.id)}
                onChange={(event) =>
                  onChange(
                    event.target.checked
                      ? [...selected, machine.id]
                      : selected.filter((id) => id !== machine.id),
                  )
                }
              />
              <span className="font-mono text-xs">{machine.id}</span>
              <span className="text-slate-600">{machine.name}</span>
            </label>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <Group legend="Machines to watch" error={error} hint={`${selected.length} selected.`}>
      <input
        type="search"
        aria-label="Find a machine"
        placeholder="Find a machine"
        value={filter}
        onChange={(event) => setFilter(event.target.value)}
        className={`${inputClass(false)} mb-2`}
      />
      {list}
    </Group>
  );
}

function ConditionEditor({
  index,
  condition,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  condition: ConditionFields;
  errors: RuleErrors;
  onChange: (key: keyof ConditionFields, value: string) => void;
  onRemove: (() => void) | null;
}) {
  const at = (key: string) => errors[`conditions[${index}].${key}`];
  const kind = condition.kind;
  const compared = kind === 'threshold' || kind === 'window' || kind === 'rate';
  return (
    <fieldset className="rounded-md border border-slate-200 p-3">
      <legend className="px-1 text-sm font-semibold text-slate-800">Condition {index + 1}</legend>
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        <SelectField
          label="Kind"
          value={kind}
          onChange={(value) => onChange('kind', value)}
          options={options(conditionKinds, (k) => kindLabels[k])}
          error={at('kind')}
        />
        <TextField
          name={`conditions[${index}].parameter`}
          label={kind === 'no_data' ? 'Parameter (optional)' : 'Parameter'}
          value={condition.parameter}
          onChange={(value) => onChange('parameter', value)}
          placeholder="power_kw"
          hint={kind === 'no_data' ? 'Empty: no data from the machine at all.' : undefined}
          error={at('parameter')}
        />
        {kind === 'window' ? (
          <>
            <SelectField
              label="Function"
              value={condition.function}
              onChange={(value) => onChange('function', value)}
              options={options(windowFunctions)}
              error={at('function')}
            />
          </>
        ) : null}
        {kind === 'window' || kind === 'no_data' ? (
          <TextField
            name={`conditions[${index}].minutes`}
            label={kind === 'window' ? 'Window (minutes)' : 'Silence (minutes)'}
            type="number"
            value={condition.minutes}
            onChange={(value) => onChange('minutes', value)}
            hint="1 to 1440."
            error={at('minutes')}
          />
        ) : null}
        {compared ? (
          <>
            <SelectField
              label="Comparison"
              value={condition.op}
              onChange={(value) => onChange('op', value)}
              options={options(comparisonOps)}
              error={at('op')}
            />
            <TextField
              name={`conditions[${index}].threshold`}
              label={kind === 'rate' ? 'Threshold (per minute)' : 'Threshold'}
              type="number"
              value={condition.threshold}
              onChange={(value) => onChange('threshold', value)}
              hint={kind === 'rate' ? 'Negative for a falling value.' : undefined}
              error={at('threshold')}
            />
            <TextField
              name={`conditions[${index}].clear_threshold`}
              label="Clear threshold (optional)"
              type="number"
              value={condition.clear_threshold}
              onChange={(value) => onChange('clear_threshold', value)}
              hint="While firing, judged against this instead, so a value hovering at the threshold does not fire and clear repeatedly."
              error={at('clear_threshold')}
            />
          </>
        ) : null}
        {kind === 'between' || kind === 'outside' ? (
          <>
            <TextField
              name={`conditions[${index}].low`}
              label="Low"
              type="number"
              value={condition.low}
              onChange={(value) => onChange('low', value)}
              error={at('low')}
            />
            <TextField
              name={`conditions[${index}].high`}
              label="High"
              type="number"
              value={condition.high}
              onChange={(value) => onChange('high', value)}
              error={at('high')}
            />
          </>
        ) : null}
      </div>
      {onRemove ? (
        <button type="button" className={`${buttonClass.small} mt-3`} onClick={onRemove}>
          Remove condition {index + 1}
        </button>
      ) : null}
    </fieldset>
  );
}

function TestResultPanel({ result }: { result: RuleTestResult }) {
  const listed = result.episodes.length;
  return (
    <div data-testid="test-result" className="space-y-3">
      <p role="status" className="text-sm text-slate-800">
        {result.fired === 0 ? (
          <>Would not have fired in the last 24 hours</>
        ) : (
          <>
            Would have fired{' '}
            <strong data-testid="test-fired">
              {result.fired} {result.fired === 1 ? 'time' : 'times'}
            </strong>{' '}
            in the last 24 hours
          </>
        )}{' '}
        ({result.readings.toLocaleString()} readings from {formatDateTime(result.from)} to{' '}
        {formatDateTime(result.to)}).
      </p>
      {listed > 0 ? (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" aria-label="Episodes">
            <TableHead
              columns={['Machine', 'Condition true from', 'Fired', 'Cleared', 'Value', 'Threshold']}
              flushLast
            />
            <tbody className="divide-y divide-slate-100">
              {result.episodes.map((e, i) => (
                <tr key={`${e.device_id}-${e.fired_at}-${i}`} data-testid="episode">
                  <td className="py-1.5 pr-3 font-mono text-xs">{e.device_id}</td>
                  <td className="py-1.5 pr-3 text-xs">{formatDateTime(e.started_at)}</td>
                  <td className="py-1.5 pr-3 text-xs">{formatDateTime(e.fired_at)}</td>
                  <td className="py-1.5 pr-3 text-xs">
                    {e.cleared_at ? formatDateTime(e.cleared_at) : 'still firing'}
                  </td>
                  <td className="py-1.5 pr-3 font-mono text-xs">{e.value ?? '—'}</td>
                  <td className="py-1.5 font-mono text-xs">{e.threshold ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {result.fired > listed ? (
            <p className="mt-1 text-xs text-slate-500">
              The first {listed} of {result.fired} episodes are listed.
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function RuleForm({ rule, canManage }: { rule: Rule | null; canManage: boolean }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const initial = useMemo(() => (rule ? ruleFields(rule) : emptyRule), [rule]);
  const [fields, setFields] = useState<RuleFields>(initial);
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const [deleting, setDeleting] = useState(false);

  const save = useMutation({
    mutationFn: (f: RuleFields) =>
      rule ? updateRule(rule.id, toDraft(f)) : createRule(toDraft(f)),
    onSuccess: (stored) => {
      queryClient.setQueryData(ruleKeys.detail(stored.id), stored);
      void queryClient.invalidateQueries({ queryKey: ['rules', 'list'] });
      if (rule) setSaved(true);
      else void navigate(`/rules/${stored.id}`, { replace: true });
    },
    onError: setServerError,
  });
  const test = useMutation({
    mutationFn: (f: RuleFields) => {
      const unchanged =
        rule !== null && JSON.stringify(toDraft(f)) === JSON.stringify(toDraft(ruleFields(rule)));
      return unchanged ? testSavedRule(rule.id) : testDraftRule(toDraft(f));
    },
    onError: setServerError,
  });
  const remove = useMutation({
    mutationFn: () => deleteRule(rule!.id),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ruleKeys.detail(rule!.id) });
      void queryClient.invalidateQueries({ queryKey: ruleKeys.all });
      void navigate('/rules', { replace: true });
    },
  });

  const own = validateRule(fields);
  const visible: RuleErrors = Object.fromEntries(
    Object.entries(own).filter(([path]) => submitted || touched.has(path)),
  );
  const shown = withServerError(visible, serverError);
  const errors = shown.errors;

  function update(patch: Partial<RuleFields>, ...paths: string[]) {
    setFields((previous) => ({ ...previous, ...patch }));
    setTouched((previous) => new Set([...previous, ...paths]));
    // An earlier answer no longer describes what the form holds.
    setServerError(null);
    setSaved(false);
    test.reset();
  }

  function updateCondition(index: number, key: keyof ConditionFields, value: string) {
    const conditions = fields.conditions.map((c, i) => (i === index ? { ...c, [key]: value } : c));
    update({ conditions }, `conditions[${index}].${key}`);
  }

  function checked(): boolean {
    setSubmitted(true);
    setServerError(null);
    return Object.keys(validateRule(fields)).length === 0;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (checked()) save.mutate(fields);
  }

  function runTest() {
    test.reset();
    if (checked()) test.mutate(fields);
  }

  return (
    <form noValidate onSubmit={submit} className="space-y-4" aria-label="Rule">
      <fieldset disabled={!canManage} className="space-y-4">
        <Card title="Rule">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              name="name"
              label="Name"
              value={fields.name}
              onChange={(name) => update({ name }, 'name')}
              error={errors.name}
            />
            <SelectField
              label="Severity"
              value={fields.severity}
              onChange={(severity) => update({ severity: severity as RuleFields['severity'] })}
              options={options(severities)}
              error={errors.severity}
            />
            <div className="sm:col-span-2">
              <TextField
                name="description"
                label="Description (optional)"
                value={fields.description}
                onChange={(description) => update({ description }, 'description')}
                error={errors.description}
              />
            </div>
            <label className="flex items-center gap-2 text-sm text-slate-800">
              <input
                type="checkbox"
                checked={fields.enabled}
                onChange={(event) => update({ enabled: event.target.checked })}
              />
              Enabled (a disabled rule is not evaluated)
            </label>
          </div>
        </Card>

        <Card title="Machines">
          <div className="space-y-3">
            <SelectField
              label="Watch"
              value={fields.scopeKind}
              onChange={(scopeKind) => update({ scopeKind: scopeKind as ScopeKind })}
              options={options(
                ['all', 'devices', 'type', 'line'] as ScopeKind[],
                (k) => scopeLabels[k],
              )}
              error={errors['scope.kind']}
            />
            {fields.scopeKind === 'devices' ? (
              <MachinePicker
                selected={fields.deviceIds}
                onChange={(deviceIds) => update({ deviceIds }, 'scope.device_ids')}
                error={errors['scope.device_ids']}
              />
            ) : null}
            {fields.scopeKind === 'type' ? (
              <TextField
                name="scope.device_type"
                label="Machine type"
                value={fields.deviceType}
                onChange={(deviceType) => update({ deviceType }, 'scope.device_type')}
                placeholder="compressor"
                hint="Machines whose type is exactly this."
                error={errors['scope.device_type']}
              />
            ) : null}
            {fields.scopeKind === 'line' ? (
              <TextField
                name="scope.line"
                label="Line"
                value={fields.line}
                onChange={(line) => update({ line }, 'scope.line')}
                hint="Machines whose line is exactly this."
                error={errors['scope.line']}
              />
            ) : null}
          </div>
        </Card>

        <Card title="Conditions">
          <div className="space-y-3">
            {fields.conditions.length > 1 ? (
              <SelectField
                label="Fires when"
                value={fields.logic}
                onChange={(logic) => update({ logic: logic as RuleFields['logic'] })}
                options={[
                  { value: 'and', label: 'every condition holds (AND)' },
                  { value: 'or', label: 'any condition holds (OR)' },
                ]}
                error={errors.logic}
              />
            ) : null}
            {fields.conditions.map((condition, index) => (
              <ConditionEditor
                key={index}
                index={index}
                condition={condition}
                errors={errors}
                onChange={(key, value) => updateCondition(index, key, value)}
                onRemove={
                  fields.conditions.length > 1
                    ? () => update({ conditions: fields.conditions.filter((_, i) => i !== index) })
                    : null
                }
              />
            ))}
            {errors.conditions ? (
              <p className="text-xs font-medium text-red-700">{errors.conditions}</p>
            ) : null}
            {fields.conditions.length < MAX_CONDITIONS ? (
              <button
                type="button"
                className={buttonClass.secondary}
                onClick={() => update({ conditions: [...fields.conditions, emptyCondition] })}
              >
                Add condition
              </button>
            ) : null}
          </div>
        </Card>

        <Card title="Timing">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              name="duration_seconds"
              label="Duration (seconds)"
              type="number"
              value={fields.duration}
              onChange={(duration) => update({ duration }, 'duration_seconds')}
              hint={secondsHint(
                fields.duration,
                'How long the conditions must hold before it fires',
              )}
              error={errors.duration_seconds}
            />
            <TextField
              name="clear_after_seconds"
              label="Clear after (seconds)"
              type="number"
              value={fields.clearAfter}
              onChange={(clearAfter) => update({ clearAfter }, 'clear_after_seconds')}
              hint={secondsHint(fields.clearAfter, 'How long they must be false before it clears')}
              error={errors.clear_after_seconds}
            />
            <TextField
              name="cooldown_seconds"
              label="Cooldown (seconds)"
              type="number"
              value={fields.cooldown}
              onChange={(cooldown) => update({ cooldown }, 'cooldown_seconds')}
              hint={secondsHint(
                fields.cooldown,
                'Least time between two notifications per machine',
              )}
              error={errors.cooldown_seconds}
            />
            <TextField
              name="repeat_seconds"
              label="Repeat (seconds)"
              type="number"
              value={fields.repeat}
              onChange={(repeat) => update({ repeat }, 'repeat_seconds')}
              hint={secondsHint(fields.repeat, 'Reminder while firing; 0 for never')}
              error={errors.repeat_seconds}
            />
          </div>
        </Card>

        <Card title="Schedule">
          <label className="flex items-center gap-2 text-sm text-slate-800">
            <input
              type="checkbox"
              checked={fields.scheduled}
              onChange={(event) => update({ scheduled: event.target.checked })}
            />
            Only on certain days and hours (otherwise always)
          </label>
          {fields.scheduled ? (
            <div className="mt-3 space-y-3">
              <Group legend="Days" error={errors['schedule.days']}>
                <div className="flex flex-wrap gap-3">
                  {weekDays.map((day) => (
                    <label key={day} className="flex items-center gap-1 text-sm">
                      <input
                        type="checkbox"
                        checked={fields.days.includes(day)}
                        onChange={(event) =>
                          update(
                            {
                              days: event.target.checked
                                ? [...fields.days, day]
                                : fields.days.filter((d) => d !== day),
                            },
                            'schedule.days',
                          )
                        }
                      />
                      {dayLabels[day]}
                    </label>
                  ))}
                </div>
              </Group>
              <div className="grid gap-4 sm:grid-cols-3">
                <TextField
                  name="schedule.start"
                  label="From (HH:MM)"
                  value={fields.start}
                  onChange={(start) => update({ start }, 'schedule.start')}
                  error={errors['schedule.start']}
                />
                <TextField
                  name="schedule.end"
                  label="To (HH:MM)"
                  value={fields.end}
                  onChange={(end) => update({ end }, 'schedule.end')}
                  hint="24:00 for midnight; an end before the start runs past midnight."
                  error={errors['schedule.end']}
                />
                <TextField
                  name="schedule.timezone"
                  label="Time zone (optional)"
                  value={fields.timezone}
                  onChange={(timezone) => update({ timezone }, 'schedule.timezone')}
                  placeholder="Europe/Berlin"
                  hint="Empty: the factory's."
                  error={errors['schedule.timezone']}
                />
              </div>
            </div>
          ) : null}
        </Card>

        <Card title="Channels">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              name="channels.email"
              label="Email addresses"
              multiline
              value={fields.emails}
              onChange={(emails) => update({ emails }, 'channels.email')}
              hint="One per line, at most 20."
              error={errors['channels.email']}
            />
            <TextField
              name="channels.whatsapp"
              label="WhatsApp numbers"
              multiline
              value={fields.whatsapp}
              onChange={(whatsapp) => update({ whatsapp }, 'channels.whatsapp')}
              hint="One per line in E.164 form, e.g. +4915112345678; at most 10."
              error={errors['channels.whatsapp']}
            />
            <label className="flex items-center gap-2 text-sm text-slate-800">
              <input
                type="checkbox"
                checked={fields.inApp}
                onChange={(event) => update({ inApp: event.target.checked })}
              />
              In-app (shown on the Alerts page and dashboard)
            </label>
          </div>
        </Card>
      </fieldset>

      {canManage ? (
        <>
          <FormError error={shown.general} />
          {submitted && Object.keys(own).length > 0 ? (
            <p role="alert" className="text-sm text-red-800">
              Correct the fields marked in red.
            </p>
          ) : null}
          {saved ? (
            <p role="status" className="text-sm text-emerald-800">
              Rule saved.
            </p>
          ) : null}
          <div className="flex flex-wrap justify-between gap-2">
            <div className="flex gap-2">
              <button type="submit" className={buttonClass.primary} disabled={save.isPending}>
                {save.isPending ? 'Saving…' : rule ? 'Save rule' : 'Create rule'}
              </button>
              <button
                type="button"
                className={buttonClass.secondary}
                onClick={runTest}
                disabled={test.isPending}
              >
                {test.isPending ? 'Testing…' : 'Test against the last 24 h'}
              </button>
            </div>
            {rule ? (
              <button
                type="button"
                className={buttonClass.danger}
                onClick={() => setDeleting(true)}
              >
                Delete rule
              </button>
            ) : null}
          </div>
          {test.isSuccess ? (
            <Card title="Test against the last 24 hours">
              <TestResultPanel result={test.data} />
            </Card>
          ) : null}
        </>
      ) : (
        <p className="text-sm text-slate-500">
          You can view this rule; changing it needs the rules permission.
        </p>
      )}
      {deleting && rule ? (
        <ConfirmDialog
          title="Delete rule"
          confirmLabel="Delete rule"
          pendingLabel="Deleting…"
          tone="danger"
          onConfirm={() => remove.mutate()}
          isPending={remove.isPending}
          error={remove.error}
          onClose={() => setDeleting(false)}
        >
          <p className="text-sm text-slate-700">
            “{rule.name}” stops being evaluated and its open alerts are resolved. Alerts it raised
            stay in the history.
          </p>
        </ConfirmDialog>
      ) : null}
    </form>
  );
}

export function RuleEditPage() {
  const { ruleId } = useParams();
  const canManage = useCanManageRules();
  const id = ruleId === undefined ? null : Number(ruleId);
  const validId = id !== null && Number.isInteger(id) && id > 0;
  const rule = useQuery({
    queryKey: ruleKeys.detail(validId ? id : 0),
    queryFn: ({ signal }) => getRule(id!, signal),
    enabled: validId,
  });

  let body;
  let title = 'New rule';
  if (id === null) body = <RuleForm rule={null} canManage={canManage} />;
  else if (!validId) body = <EmptyPanel message={`There is no rule "${ruleId}".`} />;
  else if (rule.isPending) body = <LoadingRows rows={8} label="Loading rule…" />;
  else if (rule.isError)
    body =
      rule.error.status === 404 ? (
        <EmptyPanel message={`There is no rule ${ruleId} in this factory.`} />
      ) : (
        <ErrorPanel
          title="The rule is unavailable"
          error={rule.error}
          onRetry={() => void rule.refetch()}
          retrying={rule.isFetching}
        />
      );
  else {
    title = rule.data.name;
    // Keyed by id: saving keeps the form as typed, while another rule starts a fresh one.
    body = <RuleForm key={rule.data.id} rule={rule.data} canManage={canManage} />;
  }

  return (
    <>
      <title>{`${title} · Rules · FactoryOps`}</title>
      <p className="mb-2 text-sm">
        <Link to="/rules" className="text-sky-800 hover:underline">
          ← Rules
        </Link>
      </p>
      <div className="mb-4">
        <h1 className="text-xl font-semibold text-slate-900">{title}</h1>
        {rule.data ? (
          <p className="text-sm text-slate-500">
            Version {rule.data.version}, changed {formatDateTime(rule.data.updated_at)}.{' '}
            <Link to={`/alerts?rule_id=${rule.data.id}`} className="text-sky-800 hover:underline">
              Alerts of this rule
            </Link>
          </p>
        ) : null}
      </div>
      {body}
    </>
  );
}
