import { describe, expect, it } from 'vitest';
import { parseLinks } from '../../../dev/simulators/link.ts';
import { ShopifySimulator } from '../../../dev/simulators/shopify.ts';
import { StripeSimulator } from '../../../dev/simulators/stripe.ts';
import { call, control, field, started } from './support.ts';

const auth = { authorization: 'Bearer sk_test_tributary' };

async function stripe(records = 30): Promise<{ sim: StripeSimulator; list: string }> {
  const sim = await started(new StripeSimulator({ records }));
  return { sim, list: `${sim.url}/v1/customers` };
}

async function statuses(url: string, times: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < times; i++) seen.push((await call(url, { headers: auth })).status);
  return seen;
}

describe('fault effects', () => {
  it('latency delays the answer', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'latency', ms: 150 }]);
    const startedAt = performance.now();
    expect((await call(list, { headers: auth })).status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
  });

  it('timeout never answers: the client gives up, and stop() closes hanging requests', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'timeout' }]);
    await expect(fetch(list, { headers: auth, signal: AbortSignal.timeout(200) })).rejects.toThrow(
      /timeout|aborted/i,
    );
    const hanging = fetch(list, { headers: auth });
    hanging.catch(() => undefined);
    await waitFor(() => sim.stats().requests.byStatus.timeout === 2);
    const stopping = performance.now();
    await sim.stop();
    await expect(hanging).rejects.toThrow();
    expect(performance.now() - stopping).toBeLessThan(1000);
    expect(sim.openConnections()).toBe(0);
  });

  it('rateLimit answers 429 with Retry-After and the provider error', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'rateLimit', retryAfterSeconds: 3 }]);
    const seen = await call(list, { headers: auth });
    expect(seen.status).toBe(429);
    expect(seen.headers.get('retry-after')).toBe('3');
    expect(field(seen.body, 'error')).toMatchObject({ code: 'rate_limit' });
  });

  it('serverError answers the chosen 5xx', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'serverError', status: 503 }]);
    const seen = await call(list, { headers: auth });
    expect(seen.status).toBe(503);
    expect(field(seen.body, 'error')).toMatchObject({ type: 'api_error' });
  });

  it('connectionReset breaks the connection mid-body', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'connectionReset', limit: 1 }]);
    await expect(call(list, { headers: auth })).rejects.toThrow();
    expect(sim.stats().requests.byStatus).toEqual({ reset: 1 });
    expect((await call(list, { headers: auth })).status).toBe(200);
  });

  it('malformedJson answers 200 with a body that is not JSON', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'malformedJson' }]);
    const response = await fetch(list, { headers: auth });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.startsWith('{"object":"list"')).toBe(true);
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  it('unauthorized answers 401 even with a valid key', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'unauthorized', limit: 1 }]);
    expect(await statuses(list, 2)).toEqual([401, 200]);
  });

  it('deprecation adds RFC 9745 Deprecation, RFC 8594 Sunset and a deprecation link', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([
      {
        type: 'deprecation',
        deprecation: '2024-01-01T00:00:00Z',
        sunset: '2025-12-31T23:59:59Z',
        link: 'https://example.test/d',
      },
    ]);
    const seen = await call(list, { headers: auth });
    expect(seen.status).toBe(200);
    expect(seen.headers.get('deprecation')).toBe('@1704067200');
    expect(seen.headers.get('sunset')).toBe('Wed, 31 Dec 2025 23:59:59 GMT');
    expect(parseLinks(seen.headers.get('link'))).toEqual([
      { url: 'https://example.test/d', rel: 'deprecation', params: { type: 'text/html' } },
    ]);
  });

  it('deprecation on Shopify adds the deprecated-reason header and keeps pagination links', async () => {
    const shopify = await started(new ShopifySimulator({ records: 10 }));
    shopify.addFaults([
      { type: 'deprecation', reason: 'customers.json is deprecated', sunset: null },
    ]);
    const seen = await call(`${shopify.url}/admin/api/2024-07/customers.json?limit=5`, {
      headers: { 'x-shopify-access-token': 'shpat_tributary' },
    });
    expect(seen.headers.get('x-shopify-api-deprecated-reason')).toBe(
      'customers.json is deprecated',
    );
    expect(seen.headers.get('sunset')).toBeNull();
    expect(parseLinks(seen.headers.get('link')).map((link) => link.rel)).toEqual([
      'next',
      'deprecation',
    ]);
  });

  it('combines latency with a terminal fault', async () => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'latency', ms: 100 }, { type: 'serverError' }, { type: 'rateLimit' }]);
    const startedAt = performance.now();
    expect((await call(list, { headers: auth })).status).toBe(500);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(90);
    // Only one terminal fault fires per request.
    expect(sim.stats().faults.byType).toEqual({ latency: 1, serverError: 1 });
  });
});

describe('fault scopes', () => {
  it.each([
    ['all with a limit', { kind: 'all' }, 2, [500, 500, 200, 200, 200]],
    ['nth', { kind: 'nth', n: [2, 4] }, undefined, [200, 500, 200, 500, 200]],
    ['from', { kind: 'from', n: 3 }, undefined, [200, 200, 500, 500, 500]],
  ] as const)('%s', async (_name, scope, limit, expected) => {
    const { sim, list } = await stripe();
    sim.addFaults([{ type: 'serverError', scope, ...(limit === undefined ? {} : { limit }) }]);
    expect(await statuses(list, 5)).toEqual(expected);
    const [fault] = sim.faults();
    expect(fault).toMatchObject({ seen: 5, fired: expected.filter((s) => s === 500).length });
  });

  it('page: fails one page of a walk; a client that retries still reads every record once', async () => {
    const { sim, list } = await stripe(30);
    sim.addFaults([{ type: 'serverError', scope: { kind: 'page', page: 2 }, limit: 1 }]);
    const ids: string[] = [];
    let after = '';
    for (;;) {
      const seen = await call(`${list}?limit=10${after}`, { headers: auth });
      if (seen.status === 500) continue; // retry the same page
      const data = field(seen.body, 'data') as { id: string }[];
      ids.push(...data.map((record) => record.id));
      if (field(seen.body, 'has_more') !== true) break;
      after = `&starting_after=${data.at(-1)?.id ?? ''}`;
    }
    expect(new Set(ids).size).toBe(30);
    expect(sim.requests().map((r) => [r.page, r.outcome])).toEqual([
      [1, 200],
      [2, 500],
      [2, 200],
      [3, 200],
    ]);
  });

  it('probability: a seeded draw, the same for the same seed', async () => {
    const pattern = async () => {
      const { sim, list } = await stripe();
      sim.addFaults([{ type: 'serverError', scope: { kind: 'probability', p: 0.5, seed: 42 } }]);
      return statuses(list, 20);
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    const failures = first.filter((status) => status === 500).length;
    expect(failures).toBeGreaterThan(2);
    expect(failures).toBeLessThan(18);
  });

  it('method and path filters restrict a fault, and requests count only matching ones', async () => {
    const sim = await started(
      new StripeSimulator({ resources: ['customers', 'invoices'], records: 3 }),
    );
    sim.addFaults([{ type: 'serverError', path: '/v1/invoices', scope: { kind: 'nth', n: 1 } }]);
    expect((await call(`${sim.url}/v1/customers`, { headers: auth })).status).toBe(200);
    expect((await call(`${sim.url}/v1/invoices`, { headers: auth })).status).toBe(500);
    expect((await call(`${sim.url}/v1/invoices`, { headers: auth })).status).toBe(200);
  });
});

describe('control API', () => {
  it('adds, lists and clears faults, reports stats and resets over HTTP', async () => {
    const { sim, list } = await stripe();
    const added = await control(sim.url, 'faults', {
      faults: [{ type: 'rateLimit', id: 'slow-down', limit: 1 }],
    });
    expect(added).toEqual({ ids: ['slow-down'] });
    expect(await statuses(list, 2)).toEqual([429, 200]);
    const stats = await control(sim.url, 'stats');
    expect(stats).toMatchObject({
      requests: {
        total: 2,
        byRoute: { 'GET /v1/customers': { '429': 1, '200': 1 } },
        byStatus: { '429': 1, '200': 1 },
      },
      faults: {
        fired: 1,
        byType: { rateLimit: 1 },
        active: [{ id: 'slow-down', fired: 1, remaining: 0 }],
      },
    });
    const requests = await control(sim.url, 'requests');
    expect(field(requests, 'requests')).toEqual([
      expect.objectContaining({ seq: 1, outcome: 429, faults: ['rateLimit'], page: 1 }),
      expect.objectContaining({ seq: 2, outcome: 200, faults: [] }),
    ]);
    expect((await call(`${sim.url}/__control/faults`, { method: 'DELETE' })).status).toBe(200);
    expect(sim.faults()).toEqual([]);
    await control(sim.url, 'reset', {});
    expect(sim.stats()).toMatchObject({ requests: { total: 0 }, faults: { fired: 0 } });
  });

  it('rejects invalid faults with 400 and the validation issues', async () => {
    const { sim } = await stripe();
    const seen = await call(`${sim.url}/__control/faults`, {
      method: 'POST',
      body: [{ type: 'serverError', status: 404 }],
    });
    expect(seen.status).toBe(400);
    expect(field(seen.body, 'issues')).toEqual([
      expect.objectContaining({ path: [0, 'status'], code: 'too_small' }),
    ]);
    expect((await call(`${sim.url}/__control/nope`)).status).toBe(404);
    expect(sim.stats().requests.total).toBe(0);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
