import MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertDetail, openAlert } from '../test/ruleFixtures';
import {
  acknowledgeAlert,
  alertParams,
  getAlert,
  getAlertCounts,
  listAlerts,
  resolveAlert,
} from './alerts';
import { http } from './client';

const body = (data: unknown) => JSON.parse(data as string) as unknown;

describe('alerts API', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = new MockAdapter(http, { onNoMatch: 'throwException' });
  });
  afterEach(() => server.restore());

  it('joins status and severity lists and leaves unset filters out', () => {
    expect(
      alertParams({
        status: ['open', 'acknowledged'],
        severity: ['critical'],
        device_id: '',
        rule_id: 7,
        from: '2026-11-27T00:00:00.000Z',
        limit: 50,
        offset: 0,
      }),
    ).toEqual({
      status: 'open,acknowledged',
      severity: 'critical',
      rule_id: 7,
      from: '2026-11-27T00:00:00.000Z',
      limit: 50,
      offset: 0,
    });
    expect(alertParams({ status: [], rule_id: '' })).toEqual({});
  });

  it('lists alerts and refuses a list with a malformed alert', async () => {
    server.onGet('/api/v1/alerts').reply(200, { items: [openAlert], total: 1 });
    expect((await listAlerts({ status: ['open'] })).items).toEqual([openAlert]);
    expect(server.history.get[0]!.params).toEqual({ status: 'open' });
    server
      .onGet('/api/v1/alerts')
      .reply(200, { items: [{ ...openAlert, status: 'closed' }], total: 1 });
    await expect(listAlerts({})).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('reads one alert with its notification log, and the counts', async () => {
    server.onGet('/api/v1/alerts/41').reply(200, alertDetail);
    server.onGet('/api/v1/alerts/counts').reply(200, {
      open: 2,
      acknowledged: 1,
      by_severity: { critical: 2, minor: 1 },
      by_device: { 'compressor-1': 3 },
    });
    expect((await getAlert(41)).notifications).toHaveLength(2);
    expect((await getAlertCounts()).by_device).toEqual({ 'compressor-1': 3 });

    server.onGet('/api/v1/alerts/41').reply(200, openAlert);
    await expect(getAlert(41)).rejects.toMatchObject({ code: 'invalid_response' });
    server.onGet('/api/v1/alerts/counts').reply(200, { open: 1, acknowledged: 0 });
    await expect(getAlertCounts()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('acknowledges and resolves with the comment only when there is one', async () => {
    server
      .onPost('/api/v1/alerts/41/acknowledge')
      .reply(200, { ...openAlert, status: 'acknowledged' });
    server.onPost('/api/v1/alerts/41/resolve').reply(200, { ...openAlert, status: 'resolved' });
    expect((await acknowledgeAlert(41, '  On my way  ')).status).toBe('acknowledged');
    expect(body(server.history.post[0]!.data)).toEqual({ comment: 'On my way' });
    expect((await resolveAlert(41)).status).toBe('resolved');
    expect(body(server.history.post[1]!.data)).toEqual({});
  });

  it('reports a conflict when the alert was acknowledged meanwhile', async () => {
    server.onPost('/api/v1/alerts/41/acknowledge').reply(409, {
      error: { code: 'conflict', message: 'alert 41 is already acknowledged', request_id: 'r' },
    });
    await expect(acknowledgeAlert(41)).rejects.toMatchObject({
      status: 409,
      message: 'alert 41 is already acknowledged',
    });
  });
});
