import { describe, expect, it } from 'vitest';
import { emptyMachine, machineMessages, toCreateRequest, validateMachine } from './machineForm';

const valid = { ...emptyMachine, device_id: 'compressor-1', name: 'Compressor 1' };

describe('validateMachine', () => {
  it('accepts the smallest valid machine', () => {
    expect(validateMachine(valid, true)).toEqual({});
  });

  it.each(['Compressor', '-c', 'c 1', 'c.1', 'x'.repeat(65)])('rejects the device id %s', (id) => {
    expect(validateMachine({ ...valid, device_id: id }, true).device_id).toBe(
      machineMessages.deviceIdInvalid,
    );
  });

  it('does not check the device id when editing (it cannot change)', () => {
    expect(validateMachine({ ...valid, device_id: '' }, false)).toEqual({});
  });

  it('applies the server limits to the text fields', () => {
    const errors = validateMachine(
      { ...valid, name: 'n'.repeat(121), type: 't'.repeat(65), line: 'l'.repeat(121) },
      true,
    );
    expect(errors).toEqual({
      name: 'Use at most 120 characters.',
      type: 'Use at most 64 characters.',
      line: 'Use at most 120 characters.',
    });
    expect(validateMachine({ ...valid, type: 't'.repeat(64) }, true)).toEqual({});
  });

  it.each([
    ['0', undefined],
    ['75.5', undefined],
    ['-1', machineMessages.powerInvalid],
    ['lots', machineMessages.powerInvalid],
    ['Infinity', machineMessages.powerInvalid],
  ])('rated power %s', (power, message) => {
    expect(validateMachine({ ...valid, rated_power_kw: power }, true).rated_power_kw).toBe(message);
  });

  it.each([
    ['{"a": 1}', undefined],
    ['', undefined],
    ['[1]', machineMessages.metadataInvalid],
    ['"text"', machineMessages.metadataInvalid],
    ['{broken', machineMessages.metadataInvalid],
    [JSON.stringify({ blob: 'x'.repeat(17_000) }), machineMessages.metadataTooLarge],
  ])('metadata %s', (metadata, message) => {
    expect(validateMachine({ ...valid, metadata }, true).metadata).toBe(message);
  });

  it('sends trimmed text, a number and parsed metadata', () => {
    expect(
      toCreateRequest({
        ...valid,
        name: ' Press ',
        rated_power_kw: ' 12.5 ',
        metadata: '{"vendor":"A"}',
      }),
    ).toEqual({
      device_id: 'compressor-1',
      name: 'Press',
      type: '',
      location: '',
      line: '',
      rated_power_kw: 12.5,
      metadata: { vendor: 'A' },
    });
  });
});
