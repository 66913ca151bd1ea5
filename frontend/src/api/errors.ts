import { isAxiosError } from 'axios';

/**
 * Why a request failed: the server answered with an error (`http`), the server could not be
 * reached or did not answer in time (`network`), or it answered with a body this client does
 * not understand (`invalid_response`).
 */
export type ApiErrorKind = 'http' | 'network' | 'invalid_response';

export const NETWORK_ERROR_MESSAGE = 'Cannot reach the FactoryOps server.';

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  /** The server's machine-readable code (`not_found`, `invalid_argument`, …). */
  readonly code: string;
  /** The server's request id, quoted when reporting a problem. */
  readonly requestId: string | null;
  /** For a 400, the request field the server found at fault, when it named one. */
  readonly field: string | null;

  constructor(init: {
    kind: ApiErrorKind;
    status: number | null;
    code: string;
    message: string;
    requestId?: string | null;
    field?: string | null;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId ?? null;
    this.field = init.field ?? null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads `{"error":{"code","message","request_id"}}`. Anything else (an HTML page from a proxy,
 * an empty body) yields null so the caller can fall back to the status code.
 */
export function parseErrorBody(
  body: unknown,
): { code: string; message: string; requestId: string | null; field?: string } | null {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!isRecord(value) || !isRecord(value.error)) return null;
  const { code, message, request_id: requestId, field } = value.error;
  if (typeof code !== 'string' || code === '' || typeof message !== 'string') return null;
  const parsed = { code, message, requestId: typeof requestId === 'string' ? requestId : null };
  return typeof field === 'string' && field !== '' ? { ...parsed, field } : parsed;
}

/** Turns whatever a request threw into an ApiError; an ApiError passes through unchanged. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (isAxiosError(error)) {
    const response = error.response;
    if (!response) {
      // No response at all: refused connection, DNS failure, timeout or an aborted request.
      return new ApiError({
        kind: 'network',
        status: null,
        code: 'network_error',
        message: NETWORK_ERROR_MESSAGE,
      });
    }
    const parsed = parseErrorBody(response.data);
    const headerId: unknown = response.headers?.['x-request-id'];
    if (parsed) {
      return new ApiError({
        kind: 'http',
        status: response.status,
        code: parsed.code,
        message: parsed.message,
        requestId: parsed.requestId ?? (typeof headerId === 'string' ? headerId : null),
        field: parsed.field ?? null,
      });
    }
    return new ApiError({
      kind: 'http',
      status: response.status,
      code: `http_${response.status}`,
      message: `The server answered with HTTP ${response.status}.`,
      requestId: typeof headerId === 'string' ? headerId : null,
    });
  }
  return new ApiError({
    kind: 'invalid_response',
    status: null,
    code: 'client_error',
    message: error instanceof Error ? error.message : 'Unexpected error.',
  });
}

export function invalidResponse(what: string): ApiError {
  return new ApiError({
    kind: 'invalid_response',
    status: null,
    code: 'invalid_response',
    message: `The server sent an unexpected ${what} response.`,
  });
}
