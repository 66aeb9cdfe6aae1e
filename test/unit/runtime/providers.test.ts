import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../../operator/runtime/errors.ts';
import { HttpClient } from '../../../operator/runtime/http/client.ts';
import {
  createProvider,
  type Page,
  type PassStart,
  type Provider,
} from '../../../operator/runtime/providers/index.ts';
import type { Source } from '../../../operator/runtime/providers/types.ts';
import { instantClock, sendJSON, silentLog, startServer, type Handler } from './support.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(handler: Handler, source: (url: string) => Source, credentials?: string) {
  const server = await startServer(handler);
  const agent = new Agent();
  cleanups.push(
    () => agent.close(),
    () => server.close(),
  );
  const clock = instantClock();
  const client = new HttpClient({ dispatcher: agent, timeoutMs: 5000, clock, log: silentLog() });
  const provider = createProvider({
    source: source(server.url),
    client,
    credentials,
    pageSize: 2,
    clock,
  });
  return { server, clock, provider };
}

async function collect(provider: Provider, start: PassStart = {}): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const page of provider.pages(start)) pages.push(page);
  return pages;
}

const ids = (pages: Page[]) => pages.map((p) => p.records.map((r) => (r as { id: unknown }).id));
const query = (url: string) => Object.fromEntries(new URL(url, 'http://x').searchParams);

describe('stripe', () => {
  const customers = ['cus_1', 'cus_2', 'cus_3', 'cus_4', 'cus_5'].map((id) => ({ id }));
  const handler: Handler = (req, res) => {
    const { starting_after: after, limit } = query(req.url);
    const from = after === undefined ? 0 : customers.findIndex((c) => c.id === after) + 1;
    const data = customers.slice(from, from + Number(limit));
    sendJSON(res, { object: 'list', data, has_more: from + data.length < customers.length });
  };
  const source = (url: string): Source => ({
    provider: 'stripe',
    baseURL: url,
    resource: 'customers',
    apiVersion: '2024-06-20',
    credentialsRef: { name: 's', key: 'k' },
  });

  it('pages with starting_after until has_more is false', async () => {
    const { server, provider } = await setup(handler, source, 'sk_test_abc');
    const pages = await collect(provider);
    expect(ids(pages)).toEqual([['cus_1', 'cus_2'], ['cus_3', 'cus_4'], ['cus_5']]);
    expect(pages.map((p) => p.cursor)).toEqual(['cus_2', 'cus_4', undefined]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v1/customers?limit=2',
      '/v1/customers?limit=2&starting_after=cus_2',
      '/v1/customers?limit=2&starting_after=cus_4',
    ]);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk_test_abc');
    expect(server.requests[0]?.headers['stripe-version']).toBe('2024-06-20');
    expect(provider.incremental).toBe(false);
  });

  it('refuses to end a pass early when has_more comes without a last id', async () => {
    const { provider } = await setup((_req, res) => {
      sendJSON(res, { data: [{ name: 'no id' }], has_more: true });
    }, source);
    const error = (await collect(provider).catch((e: unknown) => e)) as SyncError;
    expect(error.code).toBe('ServerError');
  });

  it('resumes after the page of a cursor', async () => {
    const { provider } = await setup(handler, source, 'sk_test_abc');
    expect(ids(await collect(provider, { cursor: 'cus_4' }))).toEqual([['cus_5']]);
  });
});

describe('shopify', () => {
  const orders = [1, 2, 3, 4, 5].map((id) => ({ id, updated_at: `2025-01-0${id}T00:00:00Z` }));
  const handler: Handler = (req, res) => {
    const { page_info: pageInfo, limit } = query(req.url);
    const from = pageInfo === undefined ? 0 : Number(pageInfo.slice(1));
    const slice = orders.slice(from, from + Number(limit));
    const next = from + slice.length < orders.length ? `p${from + slice.length}` : undefined;
    const base = `http://${String(req.headers.host)}/admin/api/2024-07/orders.json`;
    const headers: Record<string, string> = {
      'x-shopify-shop-api-call-limit': from === 0 ? '39/40' : '1/40',
      'x-shopify-api-deprecated-reason': 'https://shopify.dev/changelog/orders',
    };
    const links = [`<${base}?limit=${limit}&page_info=prev>; rel="previous"`];
    if (next) links.push(`<${base}?limit=${limit}&page_info=${next}>; rel="next"`);
    headers.link = links.join(', ');
    sendJSON(res, { orders: slice }, 200, headers);
  };
  const source = (url: string): Source => ({
    provider: 'shopify',
    baseURL: url,
    resource: 'orders',
    apiVersion: '2024-07',
    credentialsRef: { name: 's', key: 'k' },
  });

  it('follows Link rel=next page_info, filters by updated_at_min, and slows near the call limit', async () => {
    const { server, clock, provider } = await setup(handler, source, 'shpat_tok');
    const pages = await collect(provider, { since: '2025-01-01T00:00:00Z' });
    expect(ids(pages)).toEqual([[1, 2], [3, 4], [5]]);
    expect(pages.map((p) => p.cursor)).toEqual(['p2', 'p4', undefined]);
    expect(server.requests.map((r) => query(r.url))).toEqual([
      { limit: '2', updated_at_min: '2025-01-01T00:00:00Z' },
      { limit: '2', page_info: 'p2' },
      { limit: '2', page_info: 'p4' },
    ]);
    expect(server.requests[0]?.url.startsWith('/admin/api/2024-07/orders.json?')).toBe(true);
    expect(server.requests[0]?.headers['x-shopify-access-token']).toBe('shpat_tok');
    // 39/40 is above 80%: wait for (39 - 32 + 1) calls to leak at 2/s.
    expect(clock.sleeps).toEqual([4000]);
    expect(pages[0]?.deprecation?.message).toContain(
      'Shopify: https://shopify.dev/changelog/orders',
    );
    expect(provider).toMatchObject({ incremental: true, updatedField: 'updated_at' });
  });

  it('resumes from a page_info cursor', async () => {
    const { provider } = await setup(handler, source, 'shpat_tok');
    expect(ids(await collect(provider, { cursor: 'p4', since: 'ignored-with-page-info' }))).toEqual(
      [[5]],
    );
  });
});

describe('http', () => {
  const items = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, updated: i }));

  it('cursor pagination: next cursor from cursorPath, sent as cursorParam, basic auth', async () => {
    const { server, provider } = await setup(
      (req, res) => {
        const from = Number(query(req.url).after ?? 0);
        const data = items.slice(from, from + 2);
        const next = from + 2 < items.length ? String(from + 2) : null;
        sendJSON(res, { result: { data }, meta: { next } });
      },
      (url) => ({
        provider: 'http',
        baseURL: `${url}/api/`,
        credentialsRef: { name: 's', key: 'k' },
        http: {
          path: '/items',
          query: { status: 'active' },
          recordsPath: 'result.data',
          pagination: { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' },
          auth: { type: 'basic' },
        },
      }),
      'user:pa55',
    );
    const pages = await collect(provider);
    expect(ids(pages)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(pages.map((p) => p.cursor)).toEqual(['2', '4', undefined]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/items?status=active&limit=2',
      '/api/items?status=active&limit=2&after=2',
      '/api/items?status=active&limit=2&after=4',
    ]);
    expect(server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('user:pa55').toString('base64')}`,
    );
    expect(ids(await collect(provider, { cursor: '4' }))).toEqual([['e']]);
  });

  it('link pagination: relative rel=next links, header auth', async () => {
    const { server, provider } = await setup(
      (req, res) => {
        const from = Number(query(req.url).from ?? 0);
        const next =
          from + 2 < items.length ? { link: `</items?from=${from + 2}>; rel="next"` } : undefined;
        sendJSON(res, items.slice(from, from + 2), 200, next);
      },
      (url) => ({
        provider: 'http',
        baseURL: url,
        credentialsRef: { name: 's', key: 'k' },
        http: {
          path: '/items',
          pagination: { type: 'link' },
          auth: { type: 'header', header: 'X-API-Key' },
        },
      }),
      'key-1',
    );
    const pages = await collect(provider);
    expect(ids(pages)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(pages[0]?.cursor).toBe(new URL('/items?from=2', server.url).href);
    expect(pages[2]?.cursor).toBeUndefined();
    expect(server.requests[0]?.headers['x-api-key']).toBe('key-1');
    expect(ids(await collect(provider, { cursor: pages[1]?.cursor }))).toEqual([['e']]);
  });

  it('link pagination refuses a next page on another origin', async () => {
    const { provider } = await setup(
      (_req, res) => {
        sendJSON(res, [{ id: 'a' }], 200, {
          link: '<https://elsewhere.test/items?p=2>; rel="next"',
        });
      },
      (url) => ({
        provider: 'http',
        baseURL: url,
        http: { path: '/items', pagination: { type: 'link' } },
      }),
    );
    const error = await collect(provider).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe('Configuration');
  });

  it.each([
    ['stops on a short page', 5, [['a', 'b'], ['c', 'd'], ['e']], ['0', '2', '4']],
    ['stops on an empty page after full ones', 4, [['a', 'b'], ['c', 'd'], []], ['0', '2', '4']],
  ] as const)('offset pagination %s', async (_name, count, expected, offsets) => {
    const { server, provider } = await setup(
      (req, res) => {
        const { skip, take } = query(req.url);
        sendJSON(res, {
          items: items.slice(0, count).slice(Number(skip), Number(skip) + Number(take)),
        });
      },
      (url) => ({
        provider: 'http',
        baseURL: url,
        http: {
          path: '/items',
          recordsPath: 'items',
          pagination: { type: 'offset', offsetParam: 'skip', limitParam: 'take', pageSize: 2 },
        },
      }),
    );
    const pages = await collect(provider);
    expect(ids(pages)).toEqual(expected);
    expect(server.requests.map((r) => query(r.url).skip)).toEqual(offsets);
    expect(pages.at(-1)?.cursor).toBeUndefined();
  });

  it('incremental through a {since} query value, left out on a full pass', async () => {
    const { server, provider } = await setup(
      (_req, res) => {
        sendJSON(res, [{ id: 'a' }]);
      },
      (url) => ({
        provider: 'http',
        baseURL: url,
        http: {
          path: '/items',
          query: { updated_since: '{since}', kind: 'x' },
          updatedField: 'updated',
        },
      }),
    );
    expect(provider.incremental).toBe(true);
    await collect(provider);
    await collect(provider, { since: '2025-01-01T00:00:00Z' });
    expect(server.requests.map((r) => query(r.url))).toEqual([
      { kind: 'x' },
      { updated_since: '2025-01-01T00:00:00Z', kind: 'x' },
    ]);
  });

  it('a records path that is not an array is a Configuration error', async () => {
    const { provider } = await setup(
      (_req, res) => {
        sendJSON(res, { data: { not: 'an array' } });
      },
      (url) => ({ provider: 'http', baseURL: url, http: { path: '/items', recordsPath: 'data' } }),
    );
    const error = (await collect(provider).catch((e: unknown) => e)) as SyncError;
    expect(error.code).toBe('Configuration');
    expect(error.message).toContain('check recordsPath');
  });
});
