import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.ts';
import {
  Controller,
  type ReconcileResult,
} from '../../../../operator/controller/machinery/controller.ts';
import { ApiError, TerminalError } from '../../../../operator/lib/kube/errors.ts';
import { ControllerMetrics } from '../../../../operator/controller/machinery/metrics.ts';
import { WorkQueue } from '../../../../operator/controller/machinery/queue.ts';
import { captureLogger, deferred, silentLogger } from './support.ts';

type Behaviour = () => Promise<ReconcileResult>;

function setup(first: Behaviour, workers = 2) {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ name: 'integrations', clock, random: () => 0 });
  const registry = new Registry();
  const metrics = new ControllerMetrics({ registry });
  const calls: { key: string; at: number }[] = [];
  const { log, lines } = captureLogger();
  const controller = new Controller({
    name: 'integration',
    queue,
    clock,
    log,
    metrics,
    workers,
    reconciler: {
      reconcile: (key) => {
        calls.push({ key, at: clock.now() });
        return calls.length === 1 ? first() : Promise.resolve({});
      },
    },
  });
  return { clock, queue, registry, calls, lines, controller };
}

async function resultCount(registry: Registry, result: string): Promise<number> {
  const metric = await registry.getSingleMetric('tributary_reconcile_total')?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('Controller result contract', () => {
  it.each([
    {
      name: 'return {} → done, not requeued',
      first: () => Promise.resolve({}),
      result: 'success',
      secondAt: undefined,
    },
    {
      name: 'return requeueAfterMs → reconciled again after it',
      first: () => Promise.resolve({ requeueAfterMs: 1_000 }),
      result: 'requeue',
      secondAt: 1_000,
    },
    {
      name: 'throw → retried with backoff (5 ms first)',
      first: () => Promise.reject(new Error('boom')),
      result: 'error',
      secondAt: 5,
    },
    {
      name: 'throw TerminalError → never retried',
      first: () => Promise.reject(new TerminalError('bad spec')),
      result: 'terminal',
      secondAt: undefined,
    },
  ])('$name', async ({ first, result, secondAt }) => {
    const { clock, queue, registry, calls, controller } = setup(first);
    const running = controller.start();
    queue.add('ns/a');
    await clock.advance(0);
    expect(calls).toEqual([{ key: 'ns/a', at: 0 }]);
    await clock.advance(10 * 60_000);
    expect(calls.slice(1).map((c) => c.at)).toEqual(secondAt === undefined ? [] : [secondAt]);
    expect(await resultCount(registry, result)).toBe(1);
    await controller.stop();
    await running;
  });

  it('a later reconcile that asks for nothing drops the earlier requeue timer (a deleted object)', async () => {
    const { clock, queue, calls, controller } = setup(() =>
      Promise.resolve({ requeueAfterMs: 30 * 86_400_000 }),
    );
    const running = controller.start();
    queue.add('ns/a');
    await clock.advance(0);
    expect(queue.delayedCount).toBe(1);
    queue.add('ns/a');
    await clock.advance(0);
    expect(calls).toHaveLength(2);
    expect(queue.delayedCount).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(31 * 86_400_000);
    expect(calls).toHaveLength(2);
    await controller.stop();
    await running;
  });

  it.each([
    { name: 'success', ending: () => Promise.resolve({}) },
    { name: 'TerminalError', ending: () => Promise.reject(new TerminalError('x')) },
  ])('resets the failure count on $name', async ({ ending }) => {
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ name: 'q', clock, random: () => 0 });
    let n = 0;
    const controller = new Controller({
      name: 'c',
      queue,
      clock,
      log: silentLogger(),
      reconciler: { reconcile: () => (++n <= 2 ? Promise.reject(new Error('again')) : ending()) },
    });
    void controller.start();
    queue.add('ns/a');
    await clock.advance(5);
    expect(queue.numRequeues('ns/a')).toBe(2);
    await clock.advance(10);
    expect(n).toBe(3);
    expect(queue.numRequeues('ns/a')).toBe(0);
    await controller.stop();
  });

  it('logs a failure once with the reconcile context', async () => {
    const { clock, queue, lines, controller } = setup(() => Promise.reject(new Error('boom')));
    void controller.start();
    queue.add('team-a/orders');
    await clock.advance(0);
    const errors = lines().filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      controller: 'integration',
      namespace: 'team-a',
      name: 'orders',
      err: { message: 'boom' },
    });
    expect(errors[0]?.reconcileID).toMatch(/^[0-9a-f]{8}$/);
    await controller.stop();
  });
});

describe('Controller on an optimistic-concurrency conflict', () => {
  it('logs a 409 Conflict at debug, counts it and retries', async () => {
    const conflict = new ApiError(
      409,
      'Operation cannot be fulfilled on integrations.tributary.dev "orders": the object has been modified; please apply your changes to the latest version and try again',
      'Conflict',
    );
    const { clock, queue, lines, controller, registry, calls } = setup(() =>
      Promise.reject(conflict),
    );
    void controller.start();
    queue.add('team-a/orders');
    await clock.advance(0);
    await clock.advance(1000);
    expect(calls.map((c) => c.key)).toEqual(['team-a/orders', 'team-a/orders']);
    expect(lines().filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    expect(
      lines().filter(
        (l) => l.level === 'debug' && l.msg === 'object modified since read; retrying',
      ),
    ).toHaveLength(1);
    const counter = await registry.getSingleMetric('tributary_status_conflicts_total')?.get();
    expect(counter?.values).toEqual([{ labels: { controller: 'integration' }, value: 1 }]);
    await controller.stop();
  });

  it('still logs any other 409 at error', async () => {
    const exists = new ApiError(409, 'jobs.batch "x" already exists', 'AlreadyExists');
    const { clock, queue, lines, controller, registry } = setup(() => Promise.reject(exists));
    void controller.start();
    queue.add('team-a/orders');
    await clock.advance(0);
    expect(lines().filter((l) => l.level === 'error')).toHaveLength(1);
    const counter = await registry.getSingleMetric('tributary_status_conflicts_total')?.get();
    expect(counter?.values).toEqual([]);
    await controller.stop();
  });
});

describe('Controller concurrency', () => {
  it('never runs one key twice at once, while other keys proceed', async () => {
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ name: 'q', clock });
    const gate = deferred();
    const active = new Map<string, number>();
    let maxActiveA = 0;
    const seen: string[] = [];
    const controller = new Controller({
      name: 'c',
      queue,
      clock,
      log: silentLogger(),
      workers: 4,
      reconciler: {
        async reconcile(key) {
          seen.push(key);
          active.set(key, (active.get(key) ?? 0) + 1);
          if (key === 'ns/a') maxActiveA = Math.max(maxActiveA, active.get(key) ?? 0);
          if (key === 'ns/a' && seen.filter((k) => k === 'ns/a').length === 1) await gate.promise;
          active.set(key, (active.get(key) ?? 0) - 1);
          return {};
        },
      },
    });
    void controller.start();
    queue.add('ns/a');
    await clock.advance(0);
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    await clock.advance(0);
    expect(seen).toEqual(['ns/a', 'ns/b']);
    gate.resolve();
    await clock.advance(0);
    expect(seen).toEqual(['ns/a', 'ns/b', 'ns/a']);
    expect(maxActiveA).toBe(1);
    await controller.stop();
  });

  it('stop waits for in-flight reconciles, then start resolves', async () => {
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ name: 'q', clock });
    const gate = deferred();
    let finished = false;
    const controller = new Controller({
      name: 'c',
      queue,
      clock,
      log: silentLogger(),
      reconciler: {
        async reconcile() {
          await gate.promise;
          finished = true;
          return {};
        },
      },
    });
    let started = false;
    const running = controller.start().then(() => (started = true));
    queue.add('ns/a');
    await clock.advance(0);
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await clock.advance(1_000);
    expect([stopped, started]).toEqual([false, false]);
    gate.resolve();
    await stopping;
    await running;
    expect([finished, stopped, started]).toEqual([true, true, true]);
  });

  it('aborts the reconcile signal when draining exceeds drainTimeoutMs', async () => {
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ name: 'q', clock });
    const controller = new Controller({
      name: 'c',
      queue,
      clock,
      log: silentLogger(),
      drainTimeoutMs: 5_000,
      reconciler: {
        reconcile: (_key, { signal }) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              resolve({});
            });
          }),
      },
    });
    void controller.start();
    queue.add('ns/a');
    await clock.advance(0);
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await clock.advance(4_999);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stopping;
    expect(stopped).toBe(true);
  });
});
