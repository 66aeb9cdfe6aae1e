import { request } from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerMetrics } from '../../../operator/controller/machinery/metrics.ts';
import {
  HealthServer,
  MAX_ROUTE_BODY_BYTES,
  type HealthRoute,
} from '../../../operator/lib/health-server.ts';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function started(
  checks: Record<string, () => boolean> = {},
  routes: Record<string, HealthRoute> = {},
) {
  const registry = new Registry();
  const metrics = new ControllerMetrics({ registry });
  server = new HealthServer({ registry, port: 0, host: '127.0.0.1', routes });
  for (const [name, check] of Object.entries(checks)) server.addReadinessCheck(name, check);
  await server.start();
  const base = `http://127.0.0.1:${server.port}`;
  return { metrics, get: (path: string) => fetch(base + path) };
}

describe('HealthServer', () => {
  it('/healthz answers 200 while the process serves', async () => {
    const { get } = await started({ broken: () => false });
    const res = await get('/healthz');
    expect(res.status).toBe(200);
  });

  it.each<{ name: string; checks: Record<string, () => boolean>; status: number; body: string }>([
    { name: 'no checks', checks: {}, status: 200, body: 'ok' },
    { name: 'all pass', checks: { 'informer:integrations': () => true }, status: 200, body: 'ok' },
    {
      name: 'some fail or throw',
      checks: {
        'informer:integrations': () => true,
        'informer:secrets': () => false,
        'informer:jobs': () => {
          throw new Error('boom');
        },
      },
      status: 503,
      body: 'not ready: informer:secrets, informer:jobs',
    },
  ])('/readyz with $name → $status', async ({ checks, status, body }) => {
    const { get } = await started(checks);
    const res = await get('/readyz');
    expect(res.status).toBe(status);
    expect((await res.text()).trim()).toBe(body);
  });

  it('/metrics serves the injected registry in the Prometheus text format', async () => {
    const { get, metrics } = await started();
    metrics.reconcileFinished('integration', 'success', 0.2);
    metrics.queueHooks('integration').onDepth(3);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain(
      'tributary_reconcile_total{controller="integration",result="success"} 1',
    );
    expect(text).toContain('workqueue_depth{name="integration",controller="integration"} 3');
    expect(text).toContain(
      'tributary_reconcile_duration_seconds_bucket{le="0.25",controller="integration",result="success"} 1',
    );
  });

  it('answers 404 for unknown paths and exposes the bound port', async () => {
    const { get } = await started();
    expect((await get('/nope')).status).toBe(404);
    expect(server?.port).toBeGreaterThan(0);
  });

  describe('extra routes', () => {
    /** A route echoing what it was given. */
    const echo: HealthRoute = (url, body, method) =>
      Promise.resolve([
        200,
        JSON.stringify({ path: url.pathname, method, body: body?.toString() ?? null }),
        'application/json',
      ]);

    it('a GET route is called without a body, as before', async () => {
      const { get } = await started({}, { '/stats': echo });
      const res = await get('/stats');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ path: '/stats', method: 'GET', body: null });
    });

    it('a POST route gets the whole body and the method', async () => {
      await started({}, { '/match': echo });
      const body = JSON.stringify({ uid: 'u', records: [{ id: 'a', version: '1' }] });
      const res = await fetch(`http://127.0.0.1:${server?.port}/match`, { method: 'POST', body });
      expect(await res.json()).toEqual({ path: '/match', method: 'POST', body });
    });

    it('built-in paths still refuse other methods with 405', async () => {
      await started({}, { '/match': echo });
      const res = await fetch(`http://127.0.0.1:${server?.port}/healthz`, { method: 'POST' });
      expect(res.status).toBe(405);
    });

    it('a body of exactly 1 MiB passes; one byte more is 413 and the route is not called', async () => {
      let calls = 0;
      const counting: HealthRoute = (url, body, method) => {
        calls++;
        return echo(url, body, method);
      };
      await started({}, { '/match': counting });
      const url = `http://127.0.0.1:${server?.port}/match`;
      const fits = await fetch(url, { method: 'POST', body: 'x'.repeat(MAX_ROUTE_BODY_BYTES) });
      expect(fits.status).toBe(200);
      const over = await fetch(url, { method: 'POST', body: 'x'.repeat(MAX_ROUTE_BODY_BYTES + 1) });
      expect(over.status).toBe(413);
      expect(calls).toBe(1);
    });

    it('a chunked body without a length is cut at 1 MiB with 413', async () => {
      await started({}, { '/match': echo });
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: server?.port, path: '/match', method: 'POST' },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        // 2 MiB in chunks; the server answers before it has read them all.
        for (let i = 0; i < 32; i++) req.write(chunk);
        req.end();
      });
      expect(status).toBe(413);
    });
  });
});
