import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EXIT_NOT_RETRYABLE,
  EXIT_RETRYABLE,
  parseRunResult,
  type RunResult,
} from '../../../operator/api/index.ts';
import type { RunInput } from '../../../operator/api/run-input.ts';
import { idempotencyKey, recordVersion } from '../../../operator/runtime/destination.ts';
import { exitCodeOf } from '../../../operator/runtime/result.ts';
import { runSync, type SyncOptions } from '../../../operator/runtime/sync.ts';
import {
  instantClock,
  runInput,
  sendJSON,
  silentLog,
  startServer,
  type Handler,
  type TestServer,
} from './support.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

type Customer = Record<string, unknown> & { id?: string };

/** A Stripe-like source serving `customers` two by two (limit comes from pageSize 2). */
function stripeHandler(customers: Customer[], extra: Record<string, string> = {}): Handler {
  return (req, res) => {
    const params = new URL(req.url, 'http://x').searchParams;
    const after = params.get('starting_after');
    const from = after === null ? 0 : customers.findIndex((c) => c.id === after) + 1;
    const data = customers.slice(from, from + Number(params.get('limit')));
    sendJSON(res, { data, has_more: from + data.length < customers.length }, 200, extra);
  };
}

const customers = (n: number): Customer[] =>
  Array.from({ length: n }, (_, i) => ({ id: `cus_${i + 1}`, email: `c${i + 1}@example.com` }));

async function servers(source: Handler, destination: Handler) {
  const src = await startServer(source);
  const dst = await startServer(destination);
  cleanups.push(
    () => src.close(),
    () => dst.close(),
  );
  return { src, dst };
}

function options(
  src: TestServer,
  dst: TestServer,
  input: Partial<RunInput> = {},
  extra: Partial<SyncOptions> = {},
): SyncOptions {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-sync-'));
  return {
    input: runInput({
      source: {
        provider: 'stripe',
        baseURL: src.url,
        resource: 'customers',
        credentialsRef: { name: 's', key: 'k' },
      },
      destination: { url: `${dst.url}/ledger/{id}`, credentialsRef: { name: 'd', key: 'k' } },
      ...input,
    }),
    credentials: { source: 'sk_test_src', destination: 'dst-token' },
    resultPath: join(dir, 'termination-log'),
    log: silentLog(),
    clock: instantClock(),
    random: () => 0,
    pageSize: 2,
    ...extra,
  };
}

function readResult(path: string): RunResult {
  const parsed = parseRunResult(readFileSync(path, 'utf8'));
  if (!parsed.ok) throw new Error(`result file: ${JSON.stringify(parsed.problem)}`);
  return parsed.result;
}

const idOf = (url: string) => decodeURIComponent(url.split('/').at(-1) ?? '');

describe('runSync', () => {
  it('writes, counts replays unchanged and quarantines conflicts, with idempotency keys, and reports it all', async () => {
    const records = customers(7);
    records[1] = { id: 'cus_2', email: 'not-an-email' };
    records[3] = { id: 'cus_4', email: 'c4@example.com', vip: true };
    const { src, dst } = await servers(stripeHandler(records), (req, res) => {
      const id = idOf(req.url);
      const replayed = { 'idempotent-replayed': 'true' };
      if (id === 'cus_3') sendJSON(res, { error: 'duplicate key' }, 409, replayed);
      else if (id === 'cus_5') sendJSON(res, { error: 'name too long' }, 422);
      else if (id === 'cus_7') sendJSON(res, { error: 'email already taken' }, 409);
      else sendJSON(res, {}, 201);
    });
    const opts = options(src, dst, {
      schema: {
        required: ['id', 'email'],
        properties: { id: { type: 'string' }, email: { type: 'string', format: 'email' } },
      },
    });
    const result = await runSync(opts);
    expect(result).toMatchObject({
      outcome: 'PartiallySucceeded',
      stats: { read: 7, written: 3, unchanged: 1, quarantined: 3, failed: 0 },
      checkpoint: '{"v":1}',
      quarantine: {
        count: 3,
        samples: [
          { id: 'cus_2', reason: 'InvalidRecord: email: must be a valid email' },
          { id: 'cus_5', reason: 'destination answered 422: {"error":"name too long"}' },
          {
            id: 'cus_7',
            reason: 'Conflict: destination answered 409: {"error":"email already taken"}',
          },
        ],
      },
      schemaChanges: { added: ['vip'] },
    });
    expect(exitCodeOf(result)).toBe(0);
    expect(dst.requests.map((r) => idOf(r.url)).sort()).toEqual([
      'cus_1',
      'cus_3',
      'cus_4',
      'cus_5',
      'cus_6',
      'cus_7',
    ]);
    for (const req of dst.requests) {
      const record = JSON.parse(req.body) as Record<string, unknown>;
      expect(req.method).toBe('PUT');
      expect(req.headers.authorization).toBe('Bearer dst-token');
      expect(req.headers['idempotency-key']).toBe(
        idempotencyKey('uid-1', idOf(req.url), recordVersion(record, undefined)),
      );
    }
    expect(readResult(opts.resultPath)).toEqual({ version: 'tributary.dev/result/v1', ...result });
  });

  it('replaces the result file after each committed page with an interim result', async () => {
    let path = '';
    const seen = new Map<string, RunResult>();
    const { src, dst } = await servers(stripeHandler(customers(5)), (req, res) => {
      const id = idOf(req.url);
      if (id === 'cus_3' || id === 'cus_5') seen.set(id, readResult(path));
      sendJSON(res, {});
    });
    const opts = options(src, dst, {}, { concurrency: 1 });
    path = opts.resultPath;
    const result = await runSync(opts);
    expect(seen.get('cus_3')).toMatchObject({
      outcome: 'Failed',
      error: { class: 'Internal', message: 'interrupted after page 1', retryable: true },
      stats: { read: 2, written: 2 },
      checkpoint: '{"v":1,"page":"cus_2","carry":{"s":[2,2,0,0,0]}}',
    });
    expect(seen.get('cus_5')).toMatchObject({
      error: { message: 'interrupted after page 2' },
      stats: { read: 4, written: 4 },
      checkpoint: '{"v":1,"page":"cus_4","carry":{"s":[4,4,0,0,0]}}',
    });
    expect(result).toMatchObject({ outcome: 'Succeeded', stats: { read: 5, written: 5 } });
    expect(readResult(opts.resultPath).outcome).toBe('Succeeded');
  });

  it('reports the whole pass after resuming: carried counts; the carried quarantine is held', async () => {
    const { src, dst } = await servers(stripeHandler(customers(5)), (_req, res) => {
      sendJSON(res, {});
    });
    const carry = { s: [2, 1, 0, 1, 0], q: [{ i: 'cus_1', r: 'InvalidRecord: email: required' }] };
    const checkpoint = JSON.stringify({ v: 1, page: 'cus_2', carry });
    const result = await runSync(options(src, dst, { checkpoint }));
    expect(result).toMatchObject({
      outcome: 'PartiallySucceeded',
      stats: { read: 5, written: 4, quarantined: 1 },
      // The attempt that committed cus_1's page reported it: the operator holds it now.
      quarantine: { count: 1, new: 0, full: false },
    });
    expect(result.quarantine?.samples).toBeUndefined();
  });

  it('resumes after the checkpointed page', async () => {
    const { src, dst } = await servers(stripeHandler(customers(5)), (_req, res) => {
      sendJSON(res, {});
    });
    const result = await runSync(options(src, dst, { checkpoint: '{"v":1,"page":"cus_2"}' }));
    expect(src.requests[0]?.url).toBe('/v1/customers?limit=2&starting_after=cus_2');
    expect(dst.requests.map((r) => idOf(r.url)).sort()).toEqual(['cus_3', 'cus_4', 'cus_5']);
    expect(result).toMatchObject({
      outcome: 'Succeeded',
      stats: { read: 3, written: 3 },
      checkpoint: '{"v":1}',
    });
  });

  it('fails as Authentication on a destination 401 without retrying or moving the checkpoint', async () => {
    const { src, dst } = await servers(stripeHandler(customers(3)), (_req, res) => {
      sendJSON(res, { error: 'token dst-token refused' }, 401);
    });
    const checkpoint = '{"v":1,"page":"cus_0"}';
    const result = await runSync(options(src, dst, { checkpoint }, { concurrency: 1 }));
    expect(dst.requests).toHaveLength(1);
    expect(result).toMatchObject({
      outcome: 'Failed',
      error: { class: 'Authentication', retryable: false },
      stats: { read: 2, written: 0, failed: 2 },
      checkpoint,
    });
    expect(result.error?.message).not.toContain('dst-token');
    expect(exitCodeOf(result)).toBe(EXIT_NOT_RETRYABLE);
  });

  it('fails retryable on a destination that keeps failing, with the checkpoint before that page', async () => {
    const { src, dst } = await servers(stripeHandler(customers(5)), (req, res) => {
      if (idOf(req.url) === 'cus_4') sendJSON(res, {}, 503);
      else sendJSON(res, {});
    });
    const result = await runSync(
      options(src, dst, {}, { retry: { maxRetries: 2 }, concurrency: 1 }),
    );
    expect(dst.requests.filter((r) => idOf(r.url) === 'cus_4')).toHaveLength(3);
    expect(result).toMatchObject({
      outcome: 'Failed',
      error: { class: 'ServerError', retryable: true },
      stats: { read: 4, written: 3, failed: 1 },
      checkpoint: '{"v":1,"page":"cus_2","carry":{"s":[2,2,0,0,0]}}',
    });
    expect(exitCodeOf(result)).toBe(EXIT_RETRYABLE);
  });

  it('retries a malformed source page and quarantines records without an id', async () => {
    let calls = 0;
    const { src, dst } = await servers(
      (req, res, n) => {
        calls = n;
        if (n === 1) res.end('{"data": [');
        else void stripeHandler([{ id: 'cus_1' }, { email: 'x@example.com' }])(req, res, n);
      },
      (_req, res) => {
        sendJSON(res, {});
      },
    );
    const result = await runSync(options(src, dst));
    expect(calls).toBe(2);
    expect(result).toMatchObject({
      outcome: 'PartiallySucceeded',
      stats: { read: 2, written: 1, quarantined: 1 },
      quarantine: {
        count: 1,
        samples: [{ id: 'page 1 record 2', reason: 'InvalidRecord: id: no record id' }],
      },
    });
  });

  it('keeps exact counts but at most 10 samples', async () => {
    const { src, dst } = await servers(stripeHandler(customers(13)), (_req, res) => {
      sendJSON(res, { error: 'rejected' }, 400);
    });
    const result = await runSync(options(src, dst));
    expect(result.quarantine?.count).toBe(13);
    expect(result.quarantine?.samples).toHaveLength(10);
    expect(result.outcome).toBe('PartiallySucceeded');
  });

  it('reports removed schema fields and deprecation notices', async () => {
    const { src, dst } = await servers(
      stripeHandler(customers(1), {
        deprecation: '@1735689600',
        sunset: 'Wed, 31 Dec 2025 23:59:59 GMT',
      }),
      (_req, res) => {
        sendJSON(res, {});
      },
    );
    const result = await runSync(
      options(src, dst, {
        schema: {
          properties: {
            id: { type: 'string' },
            email: { type: 'string' },
            phone: { type: 'string' },
          },
        },
      }),
    );
    expect(result.schemaChanges).toEqual({ removed: ['phone'] });
    expect(result.deprecation).toEqual({
      message: `GET ${src.url}/v1/customers is deprecated since 2025-01-01T00:00:00Z; sunset 2025-12-31T23:59:59Z`,
      sunset: '2025-12-31T23:59:59Z',
    });
  });

  it('incremental shopify: the next pass starts at the high-water mark', async () => {
    const orders = [
      { id: 1, updated_at: '2025-01-03T00:00:00Z' },
      { id: 2, updated_at: '2025-01-05T00:00:00Z' },
      { id: 3, updated_at: '2025-01-04T00:00:00Z' },
    ];
    const { src, dst } = await servers(
      (_req, res) => {
        sendJSON(res, { orders });
      },
      (_req, res) => {
        sendJSON(res, {});
      },
    );
    const input = {
      source: {
        provider: 'shopify' as const,
        baseURL: src.url,
        resource: 'orders',
        apiVersion: '2024-07',
        credentialsRef: { name: 's', key: 'k' },
      },
    };
    const first = await runSync(options(src, dst, input));
    expect(first.checkpoint).toBe('{"v":1,"since":"2025-01-05T00:00:00Z"}');
    await runSync(options(src, dst, { ...input, checkpoint: first.checkpoint }));
    expect(new URL(src.requests[1]?.url ?? '', 'http://x').searchParams.get('updated_at_min')).toBe(
      '2025-01-05T00:00:00Z',
    );
    const keys = dst.requests.map((r) => r.headers['idempotency-key']);
    // Same records, same versions: the replayed writes carry the same keys.
    expect(keys.slice(3).sort()).toEqual(keys.slice(0, 3).sort());
  });

  it('stops on abort (SIGTERM): retryable, checkpoint of the last committed page', async () => {
    const stop = new AbortController();
    const { src, dst } = await servers(stripeHandler(customers(6)), (req, res) => {
      if (idOf(req.url) === 'cus_3') stop.abort();
      sendJSON(res, {});
    });
    const opts = options(src, dst, {}, { signal: stop.signal, concurrency: 1 });
    const result = await runSync(opts);
    expect(result).toMatchObject({
      outcome: 'Failed',
      error: { class: 'Internal', retryable: true },
      checkpoint: '{"v":1,"page":"cus_2","carry":{"s":[2,2,0,0,0]}}',
    });
    expect(result.error?.message).toMatch(/interrupted/);
    expect(dst.requests.map((r) => idOf(r.url))).not.toContain('cus_5');
    expect(readResult(opts.resultPath).checkpoint).toBe(
      '{"v":1,"page":"cus_2","carry":{"s":[2,2,0,0,0]}}',
    );
  });

  it.each([
    ['PUT', { outcome: 'Failed', error: { class: 'NotFound', retryable: false } }],
    ['PATCH', { outcome: 'PartiallySucceeded', quarantine: { count: 1 } }],
  ] as const)('a destination 404 for %s', async (method, expected) => {
    const { src, dst } = await servers(stripeHandler(customers(1)), (_req, res) => {
      sendJSON(res, {}, 404);
    });
    const opts = options(src, dst, {
      destination: { url: `${dst.url}/ledger/{id}`, method },
    });
    expect(await runSync(opts)).toMatchObject(expected);
  });

  it('fails as Configuration without a destination', async () => {
    const { src, dst } = await servers(stripeHandler([]), () => undefined);
    const opts = options(src, dst);
    delete opts.input.destination;
    const result = await runSync(opts);
    expect(result.error).toMatchObject({ class: 'Configuration', retryable: false });
    expect(src.requests).toHaveLength(0);
  });
});
