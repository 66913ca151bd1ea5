import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import { compressorRule, draftOf } from '../test/ruleFixtures';
import {
  channelsSummary,
  emptyCondition,
  emptyRule,
  ruleConditionSummary,
  ruleFields,
  scopeSummary,
  serverErrorField,
  toDraft,
  validateRule,
  withServerError,
  type RuleFields,
} from './ruleForm';

const valid: RuleFields = {
  ...emptyRule,
  name: 'Power high',
  conditions: [{ ...emptyCondition, parameter: 'power_kw', threshold: '75' }],
};

const refusal = (status: number, message: string, field?: string) =>
  new ApiError({ kind: 'http', status, code: 'invalid_argument', message, field });

describe('rule form', () => {
  it('reads a stored rule back into the same JSON', () => {
    expect(toDraft(ruleFields(compressorRule))).toEqual(draftOf(compressorRule));
  });

  it('sends only the fields each condition kind takes', () => {
    const draft = toDraft({
      ...valid,
      conditions: [
        { ...emptyCondition, kind: 'between', parameter: 'temp', low: '10', high: '20' },
        {
          ...emptyCondition,
          kind: 'window',
          parameter: 'power_kw',
          function: 'avg',
          minutes: '15',
          op: '>',
          threshold: '75',
        },
        { ...emptyCondition, kind: 'no_data', parameter: '', minutes: '10' },
      ],
    });
    expect(draft.conditions).toEqual([
      { kind: 'between', parameter: 'temp', low: 10, high: 20 },
      {
        kind: 'window',
        parameter: 'power_kw',
        function: 'avg',
        minutes: 15,
        op: '>',
        threshold: 75,
      },
      { kind: 'no_data', minutes: 10 },
    ]);
    expect(draft.schedule).toBeNull();
    expect(draft.scope).toEqual({ kind: 'all' });
  });

  it('accepts a valid form and names every bad field by its server path', () => {
    expect(validateRule(valid)).toEqual({});
    const errors = validateRule({
      ...valid,
      name: '  ',
      scopeKind: 'devices',
      conditions: [
        { ...emptyCondition, parameter: 'power kw', threshold: 'x' },
        { ...emptyCondition, kind: 'outside', parameter: 'p', low: '5', high: '5' },
        { ...emptyCondition, kind: 'window', parameter: 'p', minutes: '1441', threshold: '1' },
        { ...emptyCondition, parameter: 'p', op: '>', threshold: '75', clear_threshold: '80' },
      ],
      duration: '86401',
      cooldown: '-1',
      repeat: '30',
      scheduled: true,
      days: [],
      start: '24:00',
      end: '25:00',
      emails: 'a@b.example\nnot-an-address',
      whatsapp: '+49 151 1234',
    });
    expect(Object.keys(errors).sort()).toEqual([
      'channels.email',
      'channels.whatsapp',
      'conditions[0].parameter',
      'conditions[0].threshold',
      'conditions[1].high',
      'conditions[2].minutes',
      'conditions[3].clear_threshold',
      'cooldown_seconds',
      'duration_seconds',
      'name',
      'repeat_seconds',
      'schedule.days',
      'schedule.end',
      'schedule.start',
      'scope.device_ids',
    ]);
    expect(errors.name).toBe('Enter a name.');
    expect(errors['scope.device_ids']).toBe('Pick at least one machine.');
    expect(errors['conditions[0].parameter']).toMatch(/power_kw/);
    expect(errors['conditions[0].threshold']).toBe('Enter a number.');
    expect(errors['conditions[1].high']).toBe('Must be greater than low.');
    expect(errors['conditions[2].minutes']).toMatch(/1 to 1440/);
    expect(errors['conditions[3].clear_threshold']).toBe('Must not be above the threshold (75).');
    expect(errors.duration_seconds).toBe('Enter whole seconds from 0 to 86400.');
    expect(errors.cooldown_seconds).toBe('Enter whole seconds from 0 to 604800.');
    expect(errors.repeat_seconds).toMatch(/0 \(never\)/);
    expect(errors['schedule.days']).toBe('Pick at least one day.');
    expect(errors['schedule.start']).toMatch(/23:59/);
    expect(errors['schedule.end']).toMatch(/24:00/);
    expect(errors['channels.email']).toBe('"not-an-address" is not an email address.');
    expect(errors['channels.whatsapp']).toMatch(/E\.164/);
  });

  it('takes E.164 numbers of 8 to 15 digits only, and no number twice', () => {
    const check = (whatsapp: string) => validateRule({ ...valid, whatsapp })['channels.whatsapp'];
    expect(check('+4915112345678\n+12025550123')).toBeUndefined();
    expect(check('+1234567')).toMatch(/E\.164/);
    expect(check('+1234567890123456')).toMatch(/E\.164/);
    expect(check('004915112345678')).toMatch(/E\.164/);
    expect(check('+4915112345678\n+4915112345678')).toBe('+4915112345678 is listed twice.');
  });

  it('puts a server refusal under the field its message or body names', () => {
    expect(serverErrorField(refusal(422, 'conditions[1].threshold: must be a number'))).toBe(
      'conditions[1].threshold',
    );
    expect(serverErrorField(refusal(422, 'channels.whatsapp[0]: must be an E.164 number'))).toBe(
      'channels.whatsapp',
    );
    expect(serverErrorField(refusal(400, 'x', 'scope.device_ids[2]'))).toBe('scope.device_ids');
    expect(serverErrorField(refusal(422, 'body: is not valid JSON'))).toBeNull();
    expect(serverErrorField(refusal(500, 'name: broken'))).toBeNull();

    const conflict = new ApiError({
      kind: 'http',
      status: 409,
      code: 'conflict',
      message: 'A rule with this name exists.',
    });
    expect(withServerError({}, conflict)).toEqual({
      errors: { name: 'A rule with this name exists.' },
      general: null,
    });
    const other = refusal(503, 'Rules are unavailable.');
    expect(withServerError({}, other).general).toBe(other);
  });

  it('summarises conditions, scope and channels for the list', () => {
    expect(ruleConditionSummary(compressorRule)).toBe('power_kw > 75 for 5 min');
    expect(
      ruleConditionSummary({
        logic: 'or',
        duration_seconds: 0,
        conditions: [
          {
            kind: 'window',
            parameter: 'power_kw',
            function: 'avg',
            minutes: 15,
            op: '>=',
            threshold: 200,
          },
          { kind: 'no_data', minutes: 10 },
        ],
      }),
    ).toBe('avg(power_kw, 15 min) >= 200 OR no data for 10 min');
    expect(scopeSummary(compressorRule.scope)).toBe('Type: compressor');
    expect(scopeSummary({ kind: 'devices', device_ids: ['a', 'b'] })).toBe('2 machines');
    expect(channelsSummary(compressorRule.channels)).toBe('1 email, 1 WhatsApp, in-app');
    expect(channelsSummary({ email: [], whatsapp: [], in_app: false })).toBe('Nobody');
  });
});
