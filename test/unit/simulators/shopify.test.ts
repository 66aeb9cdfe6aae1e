import { describe, expect, it } from 'vitest';
import { linkWithRel, parseLinks } from '../../../dev/simulators/link.ts';
import { ShopifySimulator, shopifyIdBase } from '../../../dev/simulators/shopify.ts';
import { call, field, ids, started } from './support.ts';

const auth = { 'x-shopify-access-token': 'shpat_tributary' };

async function walk(first: string): Promise<{ ids: unknown[]; urls: string[] }> {
  const walked: unknown[] = [];
  const urls: string[] = [];
  let url: string | undefined = first;
  while (url !== undefined) {
    urls.push(url);
    const seen = await call(url, { headers: auth });
    expect(seen.status).toBe(200);
    walked.push(...ids(field(seen.body, 'customers')));
    url = linkWithRel(seen.headers.get('link'), 'next');
  }
  return { ids: walked, urls };
}

describe('ShopifySimulator', () => {
  it('walks every record exactly once by ascending id through Link rel="next"', async () => {
    const shopify = await started(new ShopifySimulator({ records: 120 }));
    const { ids: walked, urls } = await walk(
      `${shopify.url}/admin/api/2024-07/customers.json?limit=50`,
    );
    expect(urls).toHaveLength(3);
    expect(walked).toEqual(Array.from({ length: 120 }, (_, i) => shopifyIdBase + i));
    expect(urls[1]).toMatch(/\/admin\/api\/2024-07\/customers\.json\?limit=50&page_info=/);
  });

  it('links the previous page, which is the page before', async () => {
    const shopify = await started(new ShopifySimulator({ records: 30 }));
    const first = await call(`${shopify.url}/admin/api/2024-07/customers.json?limit=10`, {
      headers: auth,
    });
    expect(linkWithRel(first.headers.get('link'), 'previous')).toBeUndefined();
    const secondUrl = linkWithRel(first.headers.get('link'), 'next') ?? '';
    const second = await call(secondUrl, { headers: auth });
    const links = parseLinks(second.headers.get('link'));
    expect(links.map((link) => link.rel)).toEqual(['previous', 'next']);
    const back = await call(links[0]?.url ?? '', { headers: auth });
    expect(ids(field(back.body, 'customers'))).toEqual(ids(field(first.body, 'customers')));
  });

  it('filters by updated_at_min and keeps the filter across pages', async () => {
    const shopify = await started(new ShopifySimulator({ records: 200 }));
    const dataset = shopify.dataset();
    const changed = [3, 50, 51, 120, 199];
    dataset.update(changed);
    const since = new Date(dataset.updatedAt(3) * 1000).toISOString();
    const { ids: walked } = await walk(
      `${shopify.url}/admin/api/2024-07/customers.json?limit=2&updated_at_min=${since}`,
    );
    expect(walked).toEqual(changed.map((i) => shopifyIdBase + i));
  });

  it('refuses page_info combined with other filters, like Shopify', async () => {
    const shopify = await started(new ShopifySimulator({ records: 10 }));
    const first = await call(`${shopify.url}/admin/api/2024-07/customers.json?limit=5`, {
      headers: auth,
    });
    const next = linkWithRel(first.headers.get('link'), 'next') ?? '';
    const seen = await call(`${next}&updated_at_min=2020-01-01T00:00:00Z`, { headers: auth });
    expect(seen.status).toBe(400);
    expect(field(seen.body, 'errors')).toMatch(/page_info/);
  });

  it('shapes records like Shopify: numeric ids and created_at', async () => {
    const shopify = await started(new ShopifySimulator({ records: 1 }));
    const seen = await call(`${shopify.url}/admin/api/2024-07/customers.json`, { headers: auth });
    expect(field(seen.body, 'customers')).toEqual([
      expect.objectContaining({ id: shopifyIdBase, created_at: expect.any(String) as unknown }),
    ]);
  });

  it('answers a wrong token with 401 and an unknown version with 404', async () => {
    const shopify = await started(new ShopifySimulator());
    const wrong = await call(`${shopify.url}/admin/api/2024-07/customers.json`, {
      headers: { 'x-shopify-access-token': 'nope' },
    });
    expect(wrong.status).toBe(401);
    expect(field(wrong.body, 'errors')).toMatch(/Invalid API key or access token/);
    const missing = await call(`${shopify.url}/admin/api/2024-07/customers.json`);
    expect(missing.status).toBe(401);
    const version = await call(`${shopify.url}/admin/api/2019-04/customers.json`, {
      headers: auth,
    });
    expect(version.status).toBe(404);
    expect(version.body).toEqual({ errors: 'Not Found' });
  });

  it('meters calls with a 40-call leaky bucket leaking 2/s and answers 429 + Retry-After when full', async () => {
    let now = 1_000_000;
    const shopify = await started(new ShopifySimulator({ records: 1, now: () => now }));
    const url = `${shopify.url}/admin/api/2024-07/customers.json`;
    const limits: (string | null)[] = [];
    for (let i = 0; i < 40; i++)
      limits.push(
        (await call(url, { headers: auth })).headers.get('x-shopify-shop-api-call-limit'),
      );
    expect(limits.slice(0, 2)).toEqual(['1/40', '2/40']);
    expect(limits.at(-1)).toBe('40/40');
    const limited = await call(url, { headers: auth });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2.0');
    expect(limited.headers.get('x-shopify-shop-api-call-limit')).toBe('40/40');
    now += 1000; // two calls leak out
    expect((await call(url, { headers: auth })).headers.get('x-shopify-shop-api-call-limit')).toBe(
      '39/40',
    );
    expect((await call(url, { headers: auth })).status).toBe(200);
    expect((await call(url, { headers: auth })).status).toBe(429);
    expect(shopify.stats().requests.byStatus).toEqual({ '200': 42, '429': 2 });
  });

  it('flags deprecated versions with X-Shopify-API-Deprecated-Reason', async () => {
    const shopify = await started(
      new ShopifySimulator({
        records: 1,
        deprecatedVersions: { '2024-04': 'https://example.test/why' },
      }),
    );
    const old = await call(`${shopify.url}/admin/api/2024-04/customers.json`, { headers: auth });
    expect(old.headers.get('x-shopify-api-deprecated-reason')).toBe('https://example.test/why');
    const current = await call(`${shopify.url}/admin/api/2025-01/customers.json`, {
      headers: auth,
    });
    expect(current.headers.get('x-shopify-api-deprecated-reason')).toBeNull();
  });
});
