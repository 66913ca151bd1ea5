import MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compressorRule, draftOf, testResult } from '../test/ruleFixtures';
import { http } from './client';
import {
  createRule,
  deleteRule,
  getRule,
  listRules,
  testDraftRule,
  testSavedRule,
  updateRule,
} from './rules';

const draft = draftOf(compressorRule);
const body = (data: unknown) => JSON.parse(data as string) as unknown;

describe('rules API', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = new MockAdapter(http, { onNoMatch: 'throwException' });
  });
  afterEach(() => server.restore());

  it('lists rules with paging and checks every rule in the answer', async () => {
    server.onGet('/api/v1/rules').reply(200, { items: [compressorRule], total: 1 });
    const list = await listRules({ limit: 50, offset: 0 });
    expect(list.items[0]!.name).toBe('Compressor power high');
    expect(server.history.get[0]!.params).toEqual({ limit: 50, offset: 0 });

    server.onGet('/api/v1/rules').reply(200, {
      items: [{ ...compressorRule, conditions: [{ kind: 'threshold', parameter: 'p' }] }],
      total: 1,
    });
    await expect(listRules({})).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('reads, creates, changes and deletes a rule', async () => {
    server.onGet('/api/v1/rules/7').reply(200, compressorRule);
    server.onPost('/api/v1/rules').reply(201, compressorRule);
    server.onPatch('/api/v1/rules/7').reply(200, { ...compressorRule, enabled: false });
    server.onDelete('/api/v1/rules/7').reply(204);
    expect(await getRule(7)).toEqual(compressorRule);
    expect(await createRule(draft)).toEqual(compressorRule);
    expect(body(server.history.post[0]!.data)).toEqual(draft);
    expect((await updateRule(7, { enabled: false })).enabled).toBe(false);
    expect(body(server.history.patch[0]!.data)).toEqual({ enabled: false });
    await deleteRule(7);
    expect(server.history.delete).toHaveLength(1);
  });

  it('passes a refusal on with the field path the server named', async () => {
    server.onPost('/api/v1/rules').reply(422, {
      error: {
        code: 'invalid_argument',
        message: 'conditions[0].threshold: must be a number',
        request_id: 'r1',
      },
    });
    await expect(createRule(draft)).rejects.toMatchObject({
      status: 422,
      code: 'invalid_argument',
      message: 'conditions[0].threshold: must be a number',
    });
  });

  it('tests a saved rule and a draft against the last 24 h', async () => {
    server.onPost('/api/v1/rules/7/test').reply(200, testResult);
    server.onPost('/api/v1/rules/test').reply(200, testResult);
    expect((await testSavedRule(7)).fired).toBe(2);
    expect(server.history.post[0]!.data).toBeUndefined();
    expect((await testDraftRule(draft)).episodes).toHaveLength(2);
    expect(body(server.history.post[1]!.data)).toEqual(draft);

    server.onPost('/api/v1/rules/test').reply(200, { ...testResult, fired: 'two' });
    await expect(testDraftRule(draft)).rejects.toMatchObject({
      code: 'invalid_response',
    });
  });
});
