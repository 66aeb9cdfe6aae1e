import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DestinationWriter,
  isReplay,
  type WriteOutcome,
} from '../../../operator/runtime/destination.ts';
import { HttpClient } from '../../../operator/runtime/http/client.ts';
import { instantClock, sendJSON, silentLog, startServer } from './support.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** One write of record `r1` to a destination that answers `status` with `headers` and `body`. */
async function writeOnce(
  status: number,
  headers: Record<string, string>,
  body: unknown,
  method: 'PUT' | 'PATCH' = 'PUT',
): Promise<WriteOutcome> {
  const server = await startServer((_req, res) => {
    sendJSON(res, body, status, headers);
  });
  const agent = new Agent();
  cleanups.push(
    () => agent.close(),
    () => server.close(),
  );
  const client = new HttpClient({
    dispatcher: agent,
    timeoutMs: 5_000,
    clock: instantClock(),
    random: () => 0.5,
    log: silentLog(),
  });
  const writer = new DestinationWriter({
    destination: { url: `${server.url}/items/{id}`, method },
    client,
    integrationUID: 'uid-1',
    credentials: undefined,
  });
  return writer.write({ id: 'r1', email: 'a@example.test' }, 'r1', 'v1');
}

const replayed = { 'idempotent-replayed': 'true' };
const taken = { error: { code: 'unique_violation', message: 'email already used by items/r9' } };

describe('DestinationWriter.write: replay versus conflict', () => {
  it.each<[string, number, Record<string, string>, unknown, WriteOutcome]>([
    ['a 201', 201, {}, {}, { kind: 'written' }],
    ['a 200 without the replay header', 200, {}, {}, { kind: 'written' }],
    ['a 200 replay (Stripe style)', 200, replayed, {}, { kind: 'unchanged' }],
    ['a 409 replay', 409, replayed, { error: 'duplicate key' }, { kind: 'unchanged' }],
    [
      'a 409 replay, header in another case and padded',
      409,
      { 'Idempotent-Replayed': ' TRUE ' },
      {},
      { kind: 'unchanged' },
    ],
    [
      'a 409 without the replay header (a unique constraint on another column)',
      409,
      {},
      taken,
      {
        kind: 'quarantined',
        reason: `Conflict: destination answered 409: ${JSON.stringify(taken)}`,
      },
    ],
    [
      'a 409 whose replay header says false',
      409,
      { 'idempotent-replayed': 'false' },
      {},
      { kind: 'quarantined', reason: 'Conflict: destination answered 409: {}' },
    ],
    [
      'a replayed 422 (the first attempt was refused: nothing was applied)',
      422,
      replayed,
      { error: 'bad' },
      { kind: 'quarantined', reason: 'destination answered 422: {"error":"bad"}' },
    ],
  ])('%s', async (_, status, headers, body, expected) => {
    expect(await writeOnce(status, headers, body)).toEqual(expected);
  });
});

describe('isReplay', () => {
  it.each<[string | undefined, boolean]>([
    ['true', true],
    ['True', true],
    [' true ', true],
    ['false', false],
    ['1', false],
    ['', false],
    [undefined, false],
  ])('Idempotent-Replayed: %j → %s', (value, expected) => {
    expect(isReplay((name) => (name === 'idempotent-replayed' ? value : undefined))).toBe(expected);
  });
});
