import MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { http } from './client';
import {
  attachmentName,
  downloadTelemetryCsv,
  getLatestTelemetry,
  getTelemetryStorage,
  listIngestErrors,
  queryFleetTelemetry,
  queryTelemetry,
  telemetryParams,
  updateRetention,
} from './telemetry';

const storage = {
  engine: 'embedded',
  bytes: 123_456,
  series: 200,
  retention: {
    raw_days: 200,
    rollup_days: 730,
    raw_days_default: 183,
    rollup_days_default: 730,
    overridden: true,
  },
};

describe('telemetry API', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = new MockAdapter(http, { onNoMatch: 'throwException' });
  });
  afterEach(() => server.restore());

  it('joins parameter lists and leaves unset fields out of the query', () => {
    expect(telemetryParams({ params: ['a', 'b'], from: 1, agg: 'max' })).toEqual({
      params: 'a,b',
      from: 1,
      agg: 'max',
    });
    expect(telemetryParams({ params: [] })).toEqual({});
  });

  it('reads the answer and treats a missing timezone as unknown', async () => {
    server.onGet('/api/v1/devices/press%201/telemetry').reply(200, {
      device_id: 'press 1',
      from: 'a',
      to: 'b',
      interval: 'raw',
      agg: null,
      series: [{ param: 'p', points: [[1, 2.5]] }],
    });
    const answer = await queryTelemetry('press 1', { params: ['p'] });
    expect(answer.timezone).toBeNull();
    expect(answer.series[0]!.points).toEqual([[1, 2.5]]);
  });

  it('rejects an answer whose points are not [time, value] pairs', async () => {
    server.onGet('/api/v1/devices/m/telemetry').reply(200, {
      device_id: 'm',
      from: 'a',
      to: 'b',
      interval: '1m',
      agg: 'avg',
      timezone: 'UTC',
      series: [{ param: 'p', points: [[1, '2']] }],
    });
    await expect(queryTelemetry('m', {})).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('names the CSV file as the server does, or after the machine', async () => {
    expect(attachmentName('attachment; filename="m-telemetry.csv"')).toBe('m-telemetry.csv');
    expect(attachmentName(undefined)).toBeNull();
    server.onGet('/api/v1/devices/m/telemetry').replyOnce(200, 'time,p\n');
    const file = await downloadTelemetryCsv('m', { params: ['p'] });
    expect(file).toEqual({ filename: 'm-telemetry.csv', text: 'time,p\n' });
    expect(server.history.get[0]!.headers!.Accept).toBe('text/csv');
  });

  it('reports a refused CSV query with the server message', async () => {
    server.onGet('/api/v1/devices/m/telemetry').reply(
      400,
      JSON.stringify({
        error: { code: 'invalid_argument', message: 'from: must be before to', request_id: 'r' },
      }),
    );
    await expect(downloadTelemetryCsv('m', {})).rejects.toMatchObject({
      status: 400,
      message: 'from: must be before to',
    });
  });

  it('reads latest values and rejections', async () => {
    server.onGet('/api/v1/devices/m/telemetry/latest').reply(200, {
      device_id: 'm',
      values: [{ param: 'p', time: '2026-11-27T10:00:00Z', value: 1 }],
    });
    server.onGet('/api/v1/devices/m/ingest-errors').reply(200, {
      items: [{ received_at: 't', reason: 'empty', message: 'm', payload: '{}' }],
    });
    expect(await getLatestTelemetry('m')).toHaveLength(1);
    expect((await listIngestErrors('m'))[0]!.reason).toBe('empty');
  });

  it('reads storage and changes retention', async () => {
    server.onGet('/api/v1/telemetry/storage').reply(200, storage);
    server.onPatch('/api/v1/telemetry/retention').reply(200, storage);
    expect(await getTelemetryStorage()).toEqual(storage);
    expect(await updateRetention({ raw_days: 200, rollup_days: null })).toEqual(storage);
    expect(JSON.parse(server.history.patch[0]!.data as string)).toEqual({
      raw_days: 200,
      rollup_days: null,
    });
    server.onGet('/api/v1/telemetry/storage').reply(200, { ...storage, bytes: 'many' });
    await expect(getTelemetryStorage()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('asks for one parameter across machines and reads one series per machine', async () => {
    server.onGet('/api/v1/telemetry').reply(200, {
      param: 'power_kw',
      from: 'a',
      to: 'b',
      interval: '10s',
      agg: 'last',
      series: [
        { device_id: 'press-1', points: [[1, 2.5]] },
        { device_id: 'oven-2', points: [] },
      ],
    });
    const answer = await queryFleetTelemetry({
      devices: ['press-1', 'oven-2'],
      param: 'power_kw',
      from: 1,
      to: 2,
      agg: 'last',
      interval: '10s',
    });
    expect(server.history.get[0]!.params).toEqual({
      devices: 'press-1,oven-2',
      param: 'power_kw',
      from: 1,
      to: 2,
      agg: 'last',
      interval: '10s',
    });
    expect(answer.timezone).toBeNull();
    expect(answer.series.map((s) => s.device_id)).toEqual(['press-1', 'oven-2']);

    server.onGet('/api/v1/telemetry').reply(200, {
      param: 'power_kw',
      from: 'a',
      to: 'b',
      interval: '10s',
      agg: 'last',
      series: [{ param: 'power_kw', points: [] }],
    });
    await expect(queryFleetTelemetry({ devices: ['m'], param: 'power_kw' })).rejects.toMatchObject({
      code: 'invalid_response',
    });
  });
});
