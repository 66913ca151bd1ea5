import { http } from './client';
import { invalidResponse } from './errors';
import { isRecord } from './guards';

/** The queues whose jobs can end up as dead letters (docs/jobs.md). */
export const deadLetterQueues = ['rule-engine', 'notifications'] as const;
export type DeadLetterQueue = (typeof deadLetterQueues)[number];

/** A job that ran out of attempts or failed permanently, kept with what it was asked to do. */
export interface DeadLetter {
  id: string;
  /** Usually one of `deadLetterQueues`; kept open so a newer server's queue still lists. */
  queue: string;
  task: string;
  /** The request or job that caused this job. */
  request_id: string;
  /** Deliveries made: the first run and its retries. */
  attempts: number;
  last_error: string;
  /** The job's JSON payload; null when the server could not read it. */
  payload: unknown;
  enqueued_at: string;
  died_at: string;
}

export interface DeadLetterList {
  items: DeadLetter[];
}

export interface DeadLetterQuery {
  queue?: DeadLetterQueue | '';
  limit?: number;
}

export function isDeadLetter(value: unknown): value is DeadLetter {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    value.id !== '' &&
    typeof value.queue === 'string' &&
    typeof value.task === 'string' &&
    typeof value.request_id === 'string' &&
    typeof value.attempts === 'number' &&
    Number.isInteger(value.attempts) &&
    typeof value.last_error === 'string' &&
    'payload' in value &&
    typeof value.enqueued_at === 'string' &&
    typeof value.died_at === 'string'
  );
}

function isDeadLetterList(value: unknown): value is DeadLetterList {
  return isRecord(value) && Array.isArray(value.items) && value.items.every(isDeadLetter);
}

const path = (id: string) => `/api/v1/jobs/dead-letters/${encodeURIComponent(id)}`;

/** `GET /api/v1/jobs/dead-letters` (super admin): the factory's dead letters, newest first. */
export async function listDeadLetters(
  query: DeadLetterQuery,
  signal?: AbortSignal,
): Promise<DeadLetterList> {
  const params = Object.fromEntries(
    Object.entries(query).filter(([, v]) => v !== undefined && v !== ''),
  );
  const response = await http.get<unknown>('/api/v1/jobs/dead-letters', { params, signal });
  if (!isDeadLetterList(response.data)) throw invalidResponse('dead letter list');
  return { items: response.data.items };
}

/** `POST /api/v1/jobs/dead-letters/{id}/requeue`: back on its queue with fresh attempts. */
export async function requeueDeadLetter(id: string): Promise<void> {
  await http.post(`${path(id)}/requeue`);
}

/** `DELETE /api/v1/jobs/dead-letters/{id}`: the job is forgotten and will not run. */
export async function deleteDeadLetter(id: string): Promise<void> {
  await http.delete(path(id));
}
