import { describe, expect, it } from 'vitest';
import { Dataset } from '../../../dev/simulators/dataset.ts';
import { StripeSimulator } from '../../../dev/simulators/stripe.ts';
import { call, field, ids, started } from './support.ts';

const auth = { authorization: 'Bearer sk_test_tributary' };

interface StripeList {
  object: string;
  data: { id: string; object: string; created: number }[];
  has_more: boolean;
  url: string;
}

async function walk(base: string, query: string): Promise<{ pages: StripeList[]; ids: string[] }> {
  const pages: StripeList[] = [];
  let after: string | undefined;
  for (;;) {
    const cursor = after === undefined ? '' : `&starting_after=${after}`;
    const seen = await call(`${base}/v1/customers?${query}${cursor}`, { headers: auth });
    expect(seen.status).toBe(200);
    const page = seen.body as StripeList;
    pages.push(page);
    after = page.data.at(-1)?.id;
    if (!page.has_more) break;
  }
  return { pages, ids: pages.flatMap((page) => page.data.map((record) => record.id)) };
}

describe('StripeSimulator', () => {
  it('walks every record exactly once, newest first with ties broken by id', async () => {
    const stripe = await started(new StripeSimulator({ records: 95 }));
    const { pages, ids: walked } = await walk(stripe.url, 'limit=10');
    expect(pages).toHaveLength(10);
    expect(new Set(walked).size).toBe(95);
    expect(walked).toHaveLength(95);
    const records = pages.flatMap((page) => page.data);
    for (let i = 1; i < records.length; i++) {
      const [prev, next] = [records[i - 1], records[i]];
      if (prev === undefined || next === undefined) throw new Error('unreachable');
      expect(
        prev.created > next.created || (prev.created === next.created && prev.id > next.id),
      ).toBe(true);
    }
    expect(pages[0]).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
    expect(records[0]?.object).toBe('customer');
  });

  it('pages backwards with ending_before and filters by created', async () => {
    const dataset = new Dataset({ count: 20, startTime: 1000 });
    const stripe = await started(new StripeSimulator({ datasets: [dataset] }));
    const before = await call(`${stripe.url}/v1/customers?limit=3&ending_before=cus_00000010`, {
      headers: auth,
    });
    expect(ids(field(before.body, 'data'))).toEqual([
      'cus_00000013',
      'cus_00000012',
      'cus_00000011',
    ]);
    expect(field(before.body, 'has_more')).toBe(true);
    const recent = await walk(stripe.url, `limit=4&created[gte]=${dataset.createdAt(16)}`);
    expect(recent.ids).toEqual(['cus_00000019', 'cus_00000018', 'cus_00000017', 'cus_00000016']);
    expect(recent.pages.at(-1)?.has_more).toBe(false);
  });

  it.each([
    ['missing', {}, /did not provide an API key/],
    [
      'wrong',
      { authorization: 'Bearer sk_test_wrong_key_123' },
      /Invalid API Key provided: sk_test_\*\*\*\*_123/,
    ],
  ])('answers a %s key with a Stripe-shaped 401', async (_name, headers, message) => {
    const stripe = await started(new StripeSimulator());
    const seen = await call(`${stripe.url}/v1/customers`, { headers });
    expect(seen.status).toBe(401);
    expect(seen.body).toEqual({
      error: { type: 'invalid_request_error', message: expect.stringMatching(message) as unknown },
    });
  });

  it('records the Stripe-Version of each request and echoes it', async () => {
    const stripe = await started(new StripeSimulator({ records: 3 }));
    const pinned = await call(`${stripe.url}/v1/customers`, {
      headers: { ...auth, 'stripe-version': '2023-10-16' },
    });
    expect(pinned.headers.get('stripe-version')).toBe('2023-10-16');
    const unpinned = await call(`${stripe.url}/v1/customers`, { headers: auth });
    expect(unpinned.headers.get('stripe-version')).toBe('2024-06-20');
    expect(stripe.requests().map((r) => r.headers['stripe-version'])).toEqual([
      '2023-10-16',
      undefined,
    ]);
    expect(stripe.stats().headers['stripe-version']).toEqual({ '2023-10-16': 1, '(none)': 1 });
  });

  it('answers invalid parameters with 400 and unknown resources with 404', async () => {
    const stripe = await started(new StripeSimulator());
    const tooMany = await call(`${stripe.url}/v1/customers?limit=101`, { headers: auth });
    expect(tooMany.status).toBe(400);
    const unknownCursor = await call(`${stripe.url}/v1/customers?starting_after=cus_x`, {
      headers: auth,
    });
    expect(unknownCursor.status).toBe(400);
    const unknown = await call(`${stripe.url}/v1/charges`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(field(field(unknown.body, 'error'), 'type')).toBe('invalid_request_error');
  });

  it('serves dataset changes made over the control API', async () => {
    const stripe = await started(new StripeSimulator({ records: 5 }));
    const change = await call(`${stripe.url}/__control/dataset`, {
      method: 'POST',
      body: {
        grow: 2,
        malformed: { indexes: [1], kind: 'missingEmail' },
        addFields: { tier: 'gold' },
      },
    });
    expect(change.body).toMatchObject({ size: 7, validCount: 6, drift: { added: ['tier'] } });
    const list = await call(`${stripe.url}/v1/customers?limit=100`, { headers: auth });
    const data = field(list.body, 'data') as Record<string, unknown>[];
    expect(data).toHaveLength(7);
    expect(data.every((record) => record.tier === 'gold')).toBe(true);
    expect(data.find((record) => record.id === 'cus_00000001')).not.toHaveProperty('email');
    const invalid = await call(`${stripe.url}/__control/dataset`, {
      method: 'POST',
      body: { grow: -1 },
    });
    expect(invalid.status).toBe(400);
  });
});
