import { http } from './client';
import { invalidResponse } from './errors';
import { isDevice, isDeviceParameter, isPage, isRecord } from './guards';
import type {
  Device,
  DeviceCreate,
  DeviceList,
  DeviceParameter,
  DeviceQuery,
  DeviceUpdate,
  DeviceWithKey,
  ParameterUpdate,
} from './types';

const devicePath = (deviceId: string) => `/api/v1/devices/${encodeURIComponent(deviceId)}`;

function isDeviceWithKey(value: unknown): value is DeviceWithKey {
  return (
    isRecord(value) &&
    isDevice(value.device) &&
    typeof value.api_key === 'string' &&
    value.api_key.startsWith('fo_')
  );
}

/** Drops empty filters so the query string carries only what the user chose. */
function cleanParams<T extends object>(query: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as Partial<T>;
}

/** `GET /api/v1/devices` with paging, search and filters. */
export async function listDevices(query: DeviceQuery, signal?: AbortSignal): Promise<DeviceList> {
  const response = await http.get<unknown>('/api/v1/devices', {
    params: cleanParams(query),
    signal,
  });
  const data = response.data;
  if (!isPage(data, isDevice)) throw invalidResponse('machine list');
  const page = data as typeof data & { limit?: unknown; offset?: unknown };
  return {
    items: page.items,
    total: page.total,
    limit: typeof page.limit === 'number' ? page.limit : (query.limit ?? page.items.length),
    offset: typeof page.offset === 'number' ? page.offset : (query.offset ?? 0),
  };
}

/** The largest page `GET /api/v1/devices` serves. */
export const DEVICE_PAGE_MAX = 500;

/** Every machine of the factory, ordered by id: as many pages of 500 as it takes. */
export async function listAllDevices(signal?: AbortSignal): Promise<Device[]> {
  const all: Device[] = [];
  for (;;) {
    const page = await listDevices({ limit: DEVICE_PAGE_MAX, offset: all.length }, signal);
    all.push(...page.items);
    // An empty page ends it too: machines deleted meanwhile shrink the total.
    if (page.items.length === 0 || all.length >= page.total) return all;
  }
}

/** `POST /api/v1/devices`: the answer holds the device key, which is never sent again. */
export async function createDevice(request: DeviceCreate): Promise<DeviceWithKey> {
  const response = await http.post<unknown>('/api/v1/devices', request);
  if (!isDeviceWithKey(response.data)) throw invalidResponse('new machine');
  return response.data;
}

/** `GET /api/v1/devices/{device_id}`. */
export async function getDevice(deviceId: string, signal?: AbortSignal): Promise<Device> {
  const response = await http.get<unknown>(devicePath(deviceId), { signal });
  if (!isDevice(response.data)) throw invalidResponse('machine');
  return response.data;
}

/** `PATCH /api/v1/devices/{device_id}`. */
export async function updateDevice(deviceId: string, update: DeviceUpdate): Promise<Device> {
  const response = await http.patch<unknown>(devicePath(deviceId), update);
  if (!isDevice(response.data)) throw invalidResponse('machine');
  return response.data;
}

/** `DELETE /api/v1/devices/{device_id}`. */
export async function deleteDevice(deviceId: string): Promise<void> {
  await http.delete(devicePath(deviceId));
}

/** `POST /api/v1/devices/{device_id}/rotate-key`: the old key stops working at once. */
export async function rotateDeviceKey(deviceId: string): Promise<DeviceWithKey> {
  const response = await http.post<unknown>(`${devicePath(deviceId)}/rotate-key`);
  if (!isDeviceWithKey(response.data)) throw invalidResponse('new key');
  return response.data;
}

/** `GET /api/v1/devices/{device_id}/parameters`. */
export async function listParameters(
  deviceId: string,
  signal?: AbortSignal,
): Promise<DeviceParameter[]> {
  const response = await http.get<unknown>(`${devicePath(deviceId)}/parameters`, { signal });
  const data = response.data;
  if (!isRecord(data) || !Array.isArray(data.items) || !data.items.every(isDeviceParameter)) {
    throw invalidResponse('parameter list');
  }
  return data.items;
}

/** `PATCH /api/v1/devices/{device_id}/parameters/{key}`. */
export async function updateParameter(
  deviceId: string,
  key: string,
  update: ParameterUpdate,
): Promise<DeviceParameter> {
  const response = await http.patch<unknown>(
    `${devicePath(deviceId)}/parameters/${encodeURIComponent(key)}`,
    update,
  );
  if (!isDeviceParameter(response.data)) throw invalidResponse('parameter');
  return response.data;
}
