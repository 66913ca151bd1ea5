import { http } from './client';
import { invalidResponse } from './errors';
import { isPage, isRule, isRuleTestResult } from './guards';
import type { Rule, RuleDraft, RuleList, RuleTestResult } from './types';

// Typed calls of the rules API (docs/rules.md): list, read, create, change, delete, and the
// replay of the last 24 hours of stored data through a saved rule or an unsaved draft.

const rulePath = (id: number) => `/api/v1/rules/${encodeURIComponent(String(id))}`;

/** `GET /api/v1/rules`, ordered by name. */
export async function listRules(
  query: { limit?: number; offset?: number },
  signal?: AbortSignal,
): Promise<RuleList> {
  const response = await http.get<unknown>('/api/v1/rules', { params: query, signal });
  if (!isPage(response.data, isRule)) throw invalidResponse('rule list');
  return response.data;
}

/** `GET /api/v1/rules/{id}`. */
export async function getRule(id: number, signal?: AbortSignal): Promise<Rule> {
  const response = await http.get<unknown>(rulePath(id), { signal });
  if (!isRule(response.data)) throw invalidResponse('rule');
  return response.data;
}

/** `POST /api/v1/rules`: 409 when the name is taken, 422 naming the bad field. */
export async function createRule(draft: RuleDraft): Promise<Rule> {
  const response = await http.post<unknown>('/api/v1/rules', draft);
  if (!isRule(response.data)) throw invalidResponse('new rule');
  return response.data;
}

/** `PATCH /api/v1/rules/{id}`: the fields given replace the rule's, whole. */
export async function updateRule(id: number, update: Partial<RuleDraft>): Promise<Rule> {
  const response = await http.patch<unknown>(rulePath(id), update);
  if (!isRule(response.data)) throw invalidResponse('rule');
  return response.data;
}

/** `DELETE /api/v1/rules/{id}`: the rule's open alerts are resolved. */
export async function deleteRule(id: number): Promise<void> {
  await http.delete(rulePath(id));
}

/** A replay reads a day of data; give it more time than an ordinary call. */
const TEST_TIMEOUT_MS = 60_000;

/** `POST /api/v1/rules/{id}/test`: the saved rule against the last 24 h. */
export async function testSavedRule(id: number): Promise<RuleTestResult> {
  const response = await http.post<unknown>(`${rulePath(id)}/test`, undefined, {
    timeout: TEST_TIMEOUT_MS,
  });
  if (!isRuleTestResult(response.data)) throw invalidResponse('rule test');
  return response.data;
}

/** `POST /api/v1/rules/test`: an unsaved draft against the last 24 h, or 422 naming a field. */
export async function testDraftRule(draft: RuleDraft): Promise<RuleTestResult> {
  const response = await http.post<unknown>('/api/v1/rules/test', draft, {
    timeout: TEST_TIMEOUT_MS,
  });
  if (!isRuleTestResult(response.data)) throw invalidResponse('rule test');
  return response.data;
}
