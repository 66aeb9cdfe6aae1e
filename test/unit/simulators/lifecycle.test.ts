import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { startSimulators, type SimulatorsDescription } from '../../../dev/simulators/index.ts';
import { formatLinks, parseLinks } from '../../../dev/simulators/link.ts';
import { StripeSimulator } from '../../../dev/simulators/stripe.ts';
import { call } from './support.ts';

describe('simulator lifecycle', () => {
  it('binds 127.0.0.1 and stop() closes idle keep-alive and hanging connections', async () => {
    const sim = new StripeSimulator();
    const url = await sim.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(
      (
        await call(`${url}/v1/customers`, {
          headers: { authorization: 'Bearer sk_test_tributary' },
        })
      ).status,
    ).toBe(200);
    sim.addFaults([{ type: 'timeout' }]);
    const hanging = fetch(`${url}/v1/customers`).catch((err: unknown) => err);
    for (let i = 0; i < 100 && sim.stats().requests.byStatus.timeout !== 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(sim.openConnections()).toBeGreaterThan(0);
    await sim.stop();
    expect(sim.openConnections()).toBe(0);
    expect(await hanging).toBeInstanceOf(Error);
    await expect(fetch(`${url}/v1/customers`)).rejects.toThrow();
    await sim.stop(); // idempotent
  });

  it('startSimulators starts a subset and describes URLs and credentials', async () => {
    const sims = await startSimulators({
      stripe: true,
      destination: { token: 't' },
      records: 3,
      seed: 9,
    });
    try {
      expect(sims.shopify).toBeUndefined();
      expect(sims.stripe?.dataset().size).toBe(3);
      expect(sims.describe()).toEqual({
        stripe: { url: sims.stripe?.url, apiKey: 'sk_test_tributary', resources: ['customers'] },
        destination: { url: sims.destination?.url, token: 't' },
      });
    } finally {
      await sims.stop();
    }
    expect(sims.stripe?.openConnections()).toBe(0);
  });
});

describe('cli', () => {
  it('prints one JSON line with the base URLs and exits on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['dev/simulators/cli.ts', '--stripe', '--generic', '--records', '7'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const described = JSON.parse(line) as SimulatorsDescription;
      expect(Object.keys(described)).toEqual(['stripe', 'generic']);
      const list = await call(`${described.generic?.url ?? ''}/v1/items?limit=100`, {
        headers: { authorization: 'Bearer generic-token' },
      });
      expect((list.body as { data: unknown[] }).data).toHaveLength(7);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

describe('Link headers', () => {
  it('round-trips formatted links and parses bare and multi-rel parameters', () => {
    const header = formatLinks([
      { url: 'http://127.0.0.1:1/a?page_info=x&limit=5', rel: 'previous' },
      { url: 'http://127.0.0.1:1/a?page_info=y', rel: 'next' },
    ]);
    expect(parseLinks(header).map(({ url, rel }) => [rel, url])).toEqual([
      ['previous', 'http://127.0.0.1:1/a?page_info=x&limit=5'],
      ['next', 'http://127.0.0.1:1/a?page_info=y'],
    ]);
    expect(
      parseLinks(
        '<https://e.test/d>; rel=deprecation; type="text/html", <https://e.test/x>; rel="next last"',
      ),
    ).toEqual([
      { url: 'https://e.test/d', rel: 'deprecation', params: { type: 'text/html' } },
      { url: 'https://e.test/x', rel: 'next', params: {} },
      { url: 'https://e.test/x', rel: 'last', params: {} },
    ]);
    expect(parseLinks(null)).toEqual([]);
  });
});
