import { describe, expect, it } from 'vitest';
import {
  GenericSimulator,
  type GenericAuth,
  type GenericSimulatorOptions,
} from '../../../dev/simulators/generic.ts';
import { linkWithRel } from '../../../dev/simulators/link.ts';
import { call, started, type Seen } from './support.ts';

function at(body: unknown, path: string): unknown {
  if (path === '') return body;
  return path
    .split('.')
    .reduce<unknown>(
      (node, part) =>
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[part]
          : undefined,
      body,
    );
}

/** Walks a generic API the way a client configured with the same options would. */
async function walk(
  base: string,
  options: GenericSimulatorOptions,
  headers: Record<string, string>,
): Promise<{ ids: unknown[]; pages: number }> {
  const recordsPath = options.recordsPath ?? 'data';
  const pagination = options.pagination ?? { type: 'cursor' };
  const walked: unknown[] = [];
  let url: string | undefined = `${base}/v1/items?limit=7`;
  let pages = 0;
  let offset = 0;
  while (url !== undefined) {
    const seen: Seen = await call(url, { headers });
    expect(seen.status).toBe(200);
    pages += 1;
    const records = at(seen.body, recordsPath) as { id: unknown }[];
    walked.push(...records.map((record) => record.id));
    switch (pagination.type) {
      case 'cursor': {
        const next = at(seen.body, pagination.cursorPath ?? 'next_cursor') as string | null;
        url = next === null ? undefined : `${base}/v1/items?limit=7&cursor=${next}`;
        break;
      }
      case 'link':
        url = linkWithRel(seen.headers.get('link'), 'next');
        break;
      case 'offset':
        offset += records.length;
        url = records.length === 0 ? undefined : `${base}/v1/items?limit=7&offset=${offset}`;
        break;
    }
  }
  return { ids: walked, pages };
}

const cases: [string, GenericSimulatorOptions, Record<string, string>][] = [
  ['cursor + bearer', {}, { authorization: 'Bearer generic-token' }],
  [
    'nested cursor + basic',
    {
      recordsPath: 'result.items',
      pagination: { type: 'cursor', cursorPath: 'result.paging.next' },
      auth: { type: 'basic', username: 'u', password: 'p' },
    },
    { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
  ],
  [
    'link + header',
    {
      recordsPath: '',
      pagination: { type: 'link' },
      auth: { type: 'header', name: 'X-Api-Key', value: 'k1' },
    },
    { 'x-api-key': 'k1' },
  ],
  ['offset + none', { pagination: { type: 'offset' }, auth: { type: 'none' } }, {}],
];

describe('GenericSimulator', () => {
  it.each(cases)('walks every record exactly once: %s', async (_name, options, headers) => {
    const generic = await started(new GenericSimulator({ ...options, records: 30 }));
    const { ids, pages } = await walk(generic.url, options, headers);
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `item_${String(i).padStart(8, '0')}`));
    expect(pages).toBe(options.pagination?.type === 'offset' ? 6 : 5);
  });

  it.each([
    [
      'bearer',
      { type: 'bearer', token: 't' },
      { authorization: 'Bearer other' },
      'Bearer realm="generic"',
    ],
    ['basic', { type: 'basic', username: 'u', password: 'p' }, {}, 'Basic realm="generic"'],
    ['header', { type: 'header', name: 'X-Api-Key', value: 'k' }, { 'x-api-key': 'x' }, null],
  ] satisfies [string, GenericAuth, Record<string, string>, string | null][])(
    'answers wrong %s credentials with 401',
    async (_name, auth, headers, challenge) => {
      const generic = await started(new GenericSimulator({ auth }));
      const seen = await call(`${generic.url}/v1/items`, { headers });
      expect(seen.status).toBe(401);
      expect(seen.headers.get('www-authenticate')).toBe(challenge);
    },
  );

  it('filters by updated_since across cursor pages', async () => {
    const generic = await started(new GenericSimulator({ records: 50, auth: { type: 'none' } }));
    generic.dataset().update([4, 8, 15, 16, 23, 42]);
    const since = new Date(generic.dataset().updatedAt(4) * 1000).toISOString();
    const ids: unknown[] = [];
    let url: string | undefined = `${generic.url}/v1/items?limit=4&updated_since=${since}`;
    while (url !== undefined) {
      const seen = await call(url);
      ids.push(...(at(seen.body, 'data') as { id: unknown }[]).map((r) => r.id));
      const next = at(seen.body, 'next_cursor') as string | null;
      url = next === null ? undefined : `${generic.url}/v1/items?limit=4&cursor=${next}`;
    }
    expect(ids).toEqual([4, 8, 15, 16, 23, 42].map((i) => `item_${String(i).padStart(8, '0')}`));
  });

  it('serves several resources at a path template and 404s unknown paths', async () => {
    const generic = await started(
      new GenericSimulator({
        resources: ['orders', 'items'],
        path: '/api/{resource}/list',
        records: 2,
        auth: { type: 'none' },
      }),
    );
    expect(generic.pathOf('orders')).toBe('/api/orders/list');
    const orders = await call(`${generic.url}/api/orders/list`);
    expect((at(orders.body, 'data') as { id: string }[]).map((r) => r.id)).toEqual([
      'ord_00000000',
      'ord_00000001',
    ]);
    expect((await call(`${generic.url}/api/nope/list`)).status).toBe(404);
  });
});
