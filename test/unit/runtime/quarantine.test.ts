/**
 * Held quarantined records: the run retries them by id after its pass, where the provider can
 * read one record (Stripe, Shopify, http with itemPath), and reports the released ones and the
 * newly quarantined ones; a retried record never moves the incremental high-water mark.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESULT_BYTES, RESULT_VERSION } from '../../../operator/api/index.ts';
import type { RunInput } from '../../../operator/api/run-input.ts';
import { serializeResult } from '../../../operator/runtime/result.ts';
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

type Rec = Record<string, unknown> & { id: string | number };

/** A source serving `list` at `listPath` (one page) and any record of `byId` at `{itemPrefix}/<id>`. */
function source(
  list: Rec[],
  byId: Rec[],
  paths: { list: string; item: (id: string) => string | undefined; wrap?: string },
): Handler {
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === paths.list) {
      sendJSON(res, paths.wrap ? { [paths.wrap]: list } : { data: list });
      return;
    }
    const id = paths.item(url.pathname);
    const found = byId.find((r) => String(r.id) === id);
    if (found === undefined) sendJSON(res, { error: 'not found' }, 404);
    else sendJSON(res, paths.wrap ? { [paths.wrap.replace(/s$/, '')]: found } : found);
  };
}

async function servers(src: Handler) {
  const s = await startServer(src);
  const d = await startServer((_req, res) => {
    sendJSON(res, {}, 201);
  });
  cleanups.push(
    () => s.close(),
    () => d.close(),
  );
  return { src: s, dst: d };
}

function options(dst: TestServer, input: Partial<RunInput>): SyncOptions {
  return {
    input: runInput({
      destination: { url: `${dst.url}/ledger/{id}` },
      schema: { required: ['id', 'email'] },
      ...input,
    }),
    credentials: { source: 'token', destination: undefined },
    resultPath: join(mkdtempSync(join(tmpdir(), 'tributary-quarantine-')), 'termination-log'),
    log: silentLog(),
    clock: instantClock(),
    random: () => 0,
  };
}

const written = (dst: TestServer) =>
  dst.requests.map((r) => decodeURIComponent(r.url.split('/').at(-1) ?? '')).sort();

describe('held quarantined records', () => {
  it('http with itemPath: retried by id, released when they pass, held when still invalid or gone; the cursor ignores them', async () => {
    const list = [
      { id: 'a', email: 'a@x', updated_at: '2025-01-02T00:00:00Z' },
      { id: 'new-bad', updated_at: '2025-01-03T00:00:00Z' },
    ];
    const fixed = { id: 'fixed', email: 'f@x', updated_at: '2025-02-01T00:00:00Z' };
    const stillBad = { id: 'still-bad', updated_at: '2025-02-01T00:00:00Z' };
    const { src, dst } = await servers(
      source(list, [fixed, stillBad], {
        list: '/v1/items',
        item: (p) => (p.startsWith('/v1/items/') ? decodeURIComponent(p.slice(10)) : undefined),
      }),
    );
    const result = await runSync(
      options(dst, {
        source: {
          provider: 'http',
          baseURL: src.url,
          http: {
            path: '/v1/items',
            recordsPath: 'data',
            query: { updated_since: '{since}' },
            updatedField: 'updated_at',
            itemPath: '/v1/items/{id}',
          },
        },
        checkpoint: '{"v":1,"since":"2025-01-01T00:00:00Z"}',
        quarantine: { ids: ['fixed', 'still-bad', 'gone'] },
      }),
    );
    expect(src.requests.map((r) => r.url).slice(1)).toEqual([
      '/v1/items/fixed',
      '/v1/items/still-bad',
      '/v1/items/gone',
    ]);
    expect(written(dst)).toEqual(['a', 'fixed']);
    expect(result).toMatchObject({
      outcome: 'PartiallySucceeded',
      stats: { read: 4, written: 2, quarantined: 2 },
      // `fixed` was updated in February and written: the high-water mark stays the pass's.
      checkpoint: '{"v":1,"since":"2025-01-02T00:00:00Z"}',
      quarantine: {
        count: 2,
        new: 1,
        samples: [{ id: 'new-bad', reason: 'InvalidRecord: email: is required' }],
        released: ['fixed'],
        releasedCount: 1,
        full: false,
      },
    });
  });

  it('a held record the pass reads again is not fetched by id: released if it passes, not new if it fails', async () => {
    const list = [{ id: 'cus_1', email: 'a@x' }, { id: 'cus_2' }];
    const { src, dst } = await servers(
      source(list, [], {
        list: '/v1/customers',
        item: (p) => (p.startsWith('/v1/customers/') ? p.slice(14) : undefined),
      }),
    );
    const result = await runSync(
      options(dst, {
        source: { provider: 'stripe', baseURL: src.url, resource: 'customers' },
        quarantine: { ids: ['cus_1', 'cus_2'] },
      }),
    );
    expect(src.requests).toHaveLength(1);
    expect(result.quarantine).toEqual({
      count: 1,
      new: 0,
      released: ['cus_1'],
      releasedCount: 1,
      full: true,
    });
  });

  it('stripe and shopify read one record at their item endpoints', async () => {
    const stripe = await servers(
      source([], [{ id: 'cus_9', email: 'n@x' }], {
        list: '/v1/customers',
        item: (p) => (p.startsWith('/v1/customers/') ? p.slice(14) : undefined),
      }),
    );
    const s = await runSync(
      options(stripe.dst, {
        source: { provider: 'stripe', baseURL: stripe.src.url, resource: 'customers' },
        quarantine: { ids: ['cus_9'] },
      }),
    );
    expect(stripe.src.requests[1]?.url).toBe('/v1/customers/cus_9');
    expect(s.quarantine?.released).toEqual(['cus_9']);

    const item = /^\/admin\/api\/2024-07\/orders\/(\d+)\.json$/;
    const shopify = await servers(
      source([], [{ id: 1001, email: 'o@x' }], {
        list: '/admin/api/2024-07/orders.json',
        item: (p) => item.exec(p)?.[1],
        wrap: 'orders',
      }),
    );
    const o = await runSync(
      options(shopify.dst, {
        source: {
          provider: 'shopify',
          baseURL: shopify.src.url,
          resource: 'orders',
          apiVersion: '2024-07',
        },
        quarantine: { ids: ['1001'] },
      }),
    );
    expect(shopify.src.requests[1]?.url).toBe('/admin/api/2024-07/orders/1001.json');
    expect(o.quarantine?.released).toEqual(['1001']);
    expect(written(shopify.dst)).toEqual(['1001']);
  });

  it('http without itemPath: held records wait for a pass to read them (no GET by id)', async () => {
    const { src, dst } = await servers(
      source([{ id: 'a', email: 'a@x' }], [], { list: '/v1/items', item: () => undefined }),
    );
    const result = await runSync(
      options(dst, {
        source: {
          provider: 'http',
          baseURL: src.url,
          http: { path: '/v1/items', recordsPath: 'data' },
        },
        quarantine: { ids: ['held'] },
      }),
    );
    expect(src.requests).toHaveLength(1);
    expect(result.quarantine).toEqual({ count: 0, new: 0, full: true });
  });
});

describe('serializeResult', () => {
  it('cuts released ids before anything else to fit 4 KiB, keeping their count', () => {
    const released = Array.from({ length: 50 }, (_, i) => `${'r'.repeat(100)}${i}`);
    const samples = [{ id: 'x', reason: 'InvalidRecord: email: required' }];
    const text = serializeResult({
      outcome: 'PartiallySucceeded',
      quarantine: { count: 1, new: 1, samples, released, releasedCount: 50, full: false },
    });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const parsed = JSON.parse(text) as { version: string; quarantine: Record<string, unknown> };
    expect(parsed.version).toBe(RESULT_VERSION);
    expect(parsed.quarantine.samples).toEqual(samples);
    expect(parsed.quarantine.releasedCount).toBe(50);
    const kept = parsed.quarantine.released as string[];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(50);
    expect(kept).toEqual(released.slice(0, kept.length));
  });
});
