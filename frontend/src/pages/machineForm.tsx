import type { Device, DeviceCreate, DeviceUpdate } from '../api/types';
import { TextField } from '../components/Form';
import { FACTORY_ID_PATTERN } from './loginValidation';

/** The form's text as typed; converted to a request only once it validates. */
export interface MachineFields {
  device_id: string;
  name: string;
  type: string;
  location: string;
  line: string;
  rated_power_kw: string;
  metadata: string;
}

export type MachineErrors = Partial<Record<keyof MachineFields, string>>;

export const emptyMachine: MachineFields = {
  device_id: '',
  name: '',
  type: '',
  location: '',
  line: '',
  rated_power_kw: '',
  metadata: '',
};

export const machineMessages = {
  deviceIdMissing: 'Enter a device ID.',
  deviceIdInvalid:
    'Use up to 64 lowercase letters, digits, "-" or "_", starting with a letter or digit.',
  nameMissing: 'Enter a name.',
  tooLong: (max: number) => `Use at most ${max} characters.`,
  powerInvalid: 'Enter the rated power as a number of kilowatts (0 or more), or leave it empty.',
  metadataInvalid: 'Enter a JSON object such as {"vendor": "Atlas"}, or leave it empty.',
  metadataTooLarge: 'Keep the metadata under 16 KiB of JSON.',
} as const;

// The server's limits (characters, except metadata in bytes of JSON).
const NAME_MAX = 120;
const textMax = { type: 64, location: 120, line: 120 } as const;
const METADATA_MAX_BYTES = 16 * 1024;

export function fieldsOf(device: Device): MachineFields {
  return {
    device_id: device.device_id,
    name: device.name,
    type: device.type ?? '',
    location: device.location ?? '',
    line: device.line ?? '',
    rated_power_kw: device.rated_power_kw === null ? '' : String(device.rated_power_kw),
    metadata: device.metadata === null ? '' : JSON.stringify(device.metadata, null, 2),
  };
}

function parseMetadata(text: string): Record<string, unknown> | null | undefined {
  if (text.trim() === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // reported below
  }
  return undefined;
}

/** Mirrors the server's checks so most mistakes are caught before a round trip. */
export function validateMachine(fields: MachineFields, creating: boolean): MachineErrors {
  const errors: MachineErrors = {};
  if (creating) {
    if (fields.device_id === '') errors.device_id = machineMessages.deviceIdMissing;
    else if (!FACTORY_ID_PATTERN.test(fields.device_id))
      errors.device_id = machineMessages.deviceIdInvalid;
  }
  const name = fields.name.trim();
  if (name === '') errors.name = machineMessages.nameMissing;
  else if ([...name].length > NAME_MAX) errors.name = machineMessages.tooLong(NAME_MAX);
  for (const key of ['type', 'location', 'line'] as const) {
    if ([...fields[key].trim()].length > textMax[key])
      errors[key] = machineMessages.tooLong(textMax[key]);
  }
  const power = fields.rated_power_kw.trim();
  if (power !== '') {
    const value = Number(power);
    if (!Number.isFinite(value) || value < 0) errors.rated_power_kw = machineMessages.powerInvalid;
  }
  const metadata = parseMetadata(fields.metadata);
  if (metadata === undefined) errors.metadata = machineMessages.metadataInvalid;
  else if (
    metadata &&
    new TextEncoder().encode(JSON.stringify(metadata)).length > METADATA_MAX_BYTES
  )
    errors.metadata = machineMessages.metadataTooLarge;
  return errors;
}

export function toCreateRequest(fields: MachineFields): DeviceCreate {
  const power = fields.rated_power_kw.trim();
  return {
    device_id: fields.device_id,
    name: fields.name.trim(),
    type: fields.type.trim(),
    location: fields.location.trim(),
    line: fields.line.trim(),
    rated_power_kw: power === '' ? null : Number(power),
    metadata: parseMetadata(fields.metadata) ?? null,
  };
}

export function toUpdateRequest(fields: MachineFields): DeviceUpdate {
  const { device_id: _unused, ...rest } = toCreateRequest(fields);
  void _unused;
  return rest;
}

interface MachineFormFieldsProps {
  fields: MachineFields;
  errors: MachineErrors;
  creating: boolean;
  onChange: (name: keyof MachineFields, value: string) => void;
}

export function MachineFormFields({ fields, errors, creating, onChange }: MachineFormFieldsProps) {
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      {creating ? (
        <TextField
          name="device_id"
          label="Device ID"
          hint="Lowercase letters, digits, - and _; cannot be changed later."
          value={fields.device_id}
          onChange={(v) => onChange('device_id', v)}
          error={errors.device_id}
        />
      ) : null}
      <TextField
        name="name"
        label="Name"
        value={fields.name}
        onChange={(v) => onChange('name', v)}
        error={errors.name}
      />
      <TextField
        name="type"
        label="Type"
        placeholder="compressor"
        value={fields.type}
        onChange={(v) => onChange('type', v)}
        error={errors.type}
      />
      <TextField
        name="location"
        label="Location"
        value={fields.location}
        onChange={(v) => onChange('location', v)}
        error={errors.location}
      />
      <TextField
        name="line"
        label="Line"
        value={fields.line}
        onChange={(v) => onChange('line', v)}
        error={errors.line}
      />
      <TextField
        name="rated_power_kw"
        label="Rated power (kW)"
        value={fields.rated_power_kw}
        onChange={(v) => onChange('rated_power_kw', v)}
        error={errors.rated_power_kw}
      />
      <div className="sm:col-span-2">
        <TextField
          name="metadata"
          label="Metadata (JSON)"
          multiline
          placeholder='{"vendor": "Atlas Copco"}'
          value={fields.metadata}
          onChange={(v) => onChange('metadata', v)}
          error={errors.metadata}
        />
      </div>
    </div>
  );
}
