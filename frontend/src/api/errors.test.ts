import type MockAdapter from 'axios-mock-adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockServer } from '../test/render';
import { http } from './client';
import { ApiError, NETWORK_ERROR_MESSAGE, parseErrorBody, toApiError } from './errors';

describe('parseErrorBody', () => {
  it('reads code, message and request id', () => {
    expect(
      parseErrorBody({
        error: { code: 'not_found', message: 'No such device.', request_id: 'req-1' },
      }),
    ).toEqual({ code: 'not_found', message: 'No such device.', requestId: 'req-1' });
  });

  it('reads the field an invalid_argument error names', () => {
    expect(
      parseErrorBody({
        error: { code: 'invalid_argument', message: 'm', request_id: 'r', field: 'name' },
      }),
    ).toEqual({ code: 'invalid_argument', message: 'm', requestId: 'r', field: 'name' });
  });

  it('accepts the body as unparsed JSON text', () => {
    expect(
      parseErrorBody('{"error":{"code":"conflict","message":"Taken.","request_id":"r"}}'),
    ).toEqual({ code: 'conflict', message: 'Taken.', requestId: 'r' });
  });

  it.each([
    ['an HTML page', '<html><body>Bad Gateway</body></html>'],
    ['an empty body', ''],
    ['null', null],
    ['a body without "error"', { message: 'x' }],
    ['an error without a code', { error: { message: 'x', request_id: 'r' } }],
    ['a non-string message', { error: { code: 'x', message: 42 } }],
  ])('rejects %s', (_name, body) => {
    expect(parseErrorBody(body)).toBeNull();
  });
});

describe('errors thrown by the HTTP client', () => {
  let server: MockAdapter;
  beforeEach(() => {
    server = mockServer();
  });
  afterEach(() => server.restore());

  async function failure(request: Promise<unknown>): Promise<ApiError> {
    try {
      await request;
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error('the request was expected to fail');
  }

  it('carries the status and the fields of the server error body', async () => {
    server
      .onGet('/api/v1/things')
      .reply(
        409,
        { error: { code: 'conflict', message: 'Name already used.', request_id: 'abc-123' } },
        { 'content-type': 'application/json' },
      );
    const error = await failure(http.get('/api/v1/things'));
    expect(error.kind).toBe('http');
    expect(error.status).toBe(409);
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('Name already used.');
    expect(error.requestId).toBe('abc-123');
  });

  it('falls back to the status when the body is not an error body', async () => {
    server.onGet('/api/v1/things').reply(502, '<html>Bad Gateway</html>', {
      'x-request-id': 'from-header',
    });
    const error = await failure(http.get('/api/v1/things'));
    expect(error.kind).toBe('http');
    expect(error.code).toBe('http_502');
    expect(error.message).toBe('The server answered with HTTP 502.');
    expect(error.requestId).toBe('from-header');
  });

  it('reports a network failure without a status', async () => {
    server.onGet('/api/v1/things').networkError();
    const error = await failure(http.get('/api/v1/things'));
    expect(error.kind).toBe('network');
    expect(error.status).toBeNull();
    expect(error.message).toBe(NETWORK_ERROR_MESSAGE);
  });

  it('treats a timeout as a network failure', async () => {
    server.onGet('/api/v1/things').timeout();
    const error = await failure(http.get('/api/v1/things'));
    expect(error.kind).toBe('network');
  });

  it('passes an ApiError through unchanged', () => {
    const original = new ApiError({ kind: 'http', status: 400, code: 'x', message: 'y' });
    expect(toApiError(original)).toBe(original);
  });
});
