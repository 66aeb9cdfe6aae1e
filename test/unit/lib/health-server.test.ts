import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerMetrics } from '../../../operator/controller/machinery/metrics.ts';
import { HealthServer } from '../../../operator/lib/health-server.ts';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function started(checks: Record<string, () => boolean> = {}) {
  const registry = new Registry();
  const metrics = new ControllerMetrics({ registry });
  server = new HealthServer({ registry, port: 0, host: '127.0.0.1' });
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
    expect(text).toContain('tributary_workqueue_depth{name="integration"} 3');
    expect(text).toContain(
      'tributary_reconcile_duration_seconds_bucket{le="0.25",controller="integration",result="success"} 1',
    );
  });

  it('answers 404 for unknown paths and exposes the bound port', async () => {
    const { get } = await started();
    expect((await get('/nope')).status).toBe(404);
    expect(server?.port).toBeGreaterThan(0);
  });
});
