import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import type { ApiError } from '../api/errors';
import { listRules, updateRule } from '../api/rules';
import type { Rule, RuleList } from '../api/types';
import { can } from '../auth/permissions';
import { Card } from '../components/Card';
import { buttonClass } from '../components/Form';
import { Pager } from '../components/Pager';
import { ErrorPanel, LoadingRows } from '../components/QueryStates';
import { SeverityBadge } from '../components/SeverityBadge';
import { TableHead } from '../components/TableHead';
import { useSearchParamState } from '../hooks/useSearchParamState';
import { useSessionStore } from '../stores/session';
import { channelsSummary, ruleConditionSummary, scopeSummary } from './ruleForm';

export const RULES_PAGE_SIZE = 50;

export const ruleKeys = {
  all: ['rules'] as const,
  list: (query: object) => ['rules', 'list', query] as const,
  detail: (id: number) => ['rules', 'detail', id] as const,
};

export function useCanManageRules() {
  return can(
    useSessionStore((state) => state.session?.user),
    'manage_rules',
  );
}

/**
 * Turns a rule on or off at once in the list; if the server refuses, the switch goes back to
 * what the server holds and the refusal is shown.
 */
function useEnabledToggle() {
  const queryClient = useQueryClient();
  const [failure, setFailure] = useState<{ rule: Rule; error: ApiError } | null>(null);
  const mutation = useMutation({
    mutationFn: ({ rule, enabled }: { rule: Rule; enabled: boolean }) =>
      updateRule(rule.id, { enabled }),
    onMutate: async ({ rule, enabled }) => {
      setFailure(null);
      await queryClient.cancelQueries({ queryKey: ['rules', 'list'] });
      const before = queryClient.getQueriesData<RuleList>({ queryKey: ['rules', 'list'] });
      queryClient.setQueriesData<RuleList>({ queryKey: ['rules', 'list'] }, (page) =>
        page
          ? { ...page, items: page.items.map((r) => (r.id === rule.id ? { ...r, enabled } : r)) }
          : page,
      );
      return { before };
    },
    onError: (error, { rule }, context) => {
      for (const [key, data] of context?.before ?? []) queryClient.setQueryData(key, data);
      setFailure({ rule, error });
    },
    onSuccess: (updated) => {
      queryClient.setQueryData(ruleKeys.detail(updated.id), updated);
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ruleKeys.all }),
  });
  return { mutation, failure };
}

function EnabledCell({
  rule,
  canManage,
  onToggle,
}: {
  rule: Rule;
  canManage: boolean;
  onToggle: (enabled: boolean) => void;
}) {
  if (!canManage) {
    return <span className="text-xs text-slate-600">{rule.enabled ? 'on' : 'off'}</span>;
  }
  return (
    <label className="inline-flex items-center gap-1.5 text-xs text-slate-700">
      <input
        type="checkbox"
        role="switch"
        checked={rule.enabled}
        aria-label={`Enabled: ${rule.name}`}
        onChange={(event) => onToggle(event.target.checked)}
      />
      {rule.enabled ? 'on' : 'off'}
    </label>
  );
}

function NoRules({ canManage }: { canManage: boolean }) {
  return (
    <div className="rounded-md border border-dashed border-slate-300 px-3 py-6 text-center text-sm text-slate-600">
      <p>No alert rules yet. A rule says when a machine needs attention and who is told.</p>
      {canManage ? (
        <p className="mt-3">
          <Link to="/rules/new" className={buttonClass.primary}>
            Create the first rule
          </Link>
        </p>
      ) : (
        <p className="mt-1">An admin with the rules permission can create them.</p>
      )}
    </div>
  );
}

export function RulesPage() {
  const canManage = useCanManageRules();
  const [params, setParam] = useSearchParamState();
  const offset = Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0);
  const query = { limit: RULES_PAGE_SIZE, offset };
  const rules = useQuery({
    queryKey: ruleKeys.list(query),
    queryFn: ({ signal }) => listRules(query, signal),
    placeholderData: keepPreviousData,
  });
  const { mutation: toggle, failure } = useEnabledToggle();

  let body;
  if (rules.isPending) body = <LoadingRows rows={5} label="Loading rules…" />;
  else if (rules.isError)
    body = (
      <ErrorPanel
        title="The rule list is unavailable"
        error={rules.error}
        onRetry={() => void rules.refetch()}
        retrying={rules.isFetching}
      />
    );
  else if (rules.data.items.length === 0 && offset === 0) body = <NoRules canManage={canManage} />;
  else
    body = (
      <>
        {failure ? (
          <p
            role="alert"
            className="mb-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
          >
            “{failure.rule.name}” was not {failure.rule.enabled ? 'disabled' : 'enabled'}:{' '}
            {failure.error.message}
          </p>
        ) : null}
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <TableHead
              columns={['Name', 'Severity', 'Machines', 'Condition', 'Channels', 'Enabled']}
              flushLast
            />
            <tbody className="divide-y divide-slate-100">
              {rules.data.items.map((rule) => (
                <tr key={rule.id} data-testid={`rule-row-${rule.id}`}>
                  <td className="py-2 pr-3">
                    <Link to={`/rules/${rule.id}`} className="text-sky-800 hover:underline">
                      {rule.name}
                    </Link>
                  </td>
                  <td className="py-2 pr-3">
                    <SeverityBadge severity={rule.severity} />
                  </td>
                  <td className="py-2 pr-3 text-xs">{scopeSummary(rule.scope)}</td>
                  <td className="py-2 pr-3 font-mono text-xs" data-testid="rule-condition">
                    {ruleConditionSummary(rule)}
                  </td>
                  <td className="py-2 pr-3 text-xs">{channelsSummary(rule.channels)}</td>
                  <td className="py-2">
                    <EnabledCell
                      rule={rule}
                      canManage={canManage}
                      onToggle={(enabled) => toggle.mutate({ rule, enabled })}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager
          offset={offset}
          limit={RULES_PAGE_SIZE}
          total={rules.data.total}
          shown={rules.data.items.length}
          onChange={(value) => setParam('offset', value === 0 ? '' : String(value))}
        />
      </>
    );

  return (
    <>
      <title>Rules · FactoryOps</title>
      <div className="mb-4 flex items-center justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold text-slate-900">Rules</h1>
          <p className="text-sm text-slate-500">
            When a machine's telemetry calls for attention, and who is told.
          </p>
        </div>
        {canManage ? (
          <Link to="/rules/new" className={buttonClass.primary}>
            New rule
          </Link>
        ) : null}
      </div>
      <Card title="Alert rules">{body}</Card>
    </>
  );
}
