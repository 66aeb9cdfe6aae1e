/**
 * Memory under churn (issue 14, point 9): one operator out of process, started with the
 * inspector, watches a few steady Integrations while waves of others are created, changed and
 * deleted; a few of each wave run (Jobs, Events, metric series, timers). Its heap after a forced
 * GC, once every churned object is gone, must be within 10 % of its level before the churn.
 * test/chaos/README.md, "Memory under churn".
 */
import { readFileSync } from 'node:fs';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Cluster } from '../../dev/cluster/cluster.ts';
import { OperatorProcess } from '../../dev/cluster/operator.ts';
import { freePort, waitFor } from '../../dev/cluster/processes.ts';
import { Integrations, type StoredIntegration } from '../support/integrations.ts';
import { startChaosCluster } from './support/cluster.ts';
import { count, report } from './support/figures.ts';
import { Inspector, type HeapSample } from '../../dev/cluster/inspector.ts';
import { loadSpec } from './support/load.ts';
import { sentinelLeaks, sentinelSecret } from './support/sentinels.ts';

/** Waves of `size` objects, each created → updated → deleted; `runEvery`-th one runs. */
const CHURN = count({ waves: 3, size: 50 }, { waves: 10, size: 100 }); // full: 1,000 churned, as issue 14 asks
/** Every how many churned (and steady) Integrations one runs the quick connector every 10 s. */
const RUN_EVERY = 10;
/** The steady Integrations, there before, during and after the churn. */
const STEADY = 20;
/** The target: heap after the churn ≤ this × heap before. */
const TARGET_RATIO = 1.1;
/** A cron that fires once a year: an idle Integration with a timer but no run. */
const YEARLY = '0 0 1 1 *';

let cluster: Cluster;
let operator: OperatorProcess;
let inspector: Inspector;
let steady: Integrations;
let churn: Integrations;

beforeAll(async () => {
  cluster = await startChaosCluster();
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  for (const name of ['mem-steady', 'mem-churn']) {
    await core.createNamespace({ body: { metadata: { name } } });
    await sentinelSecret(cluster, name, 'load-credentials', ['apiKey', 'destinationToken']);
  }
  steady = new Integrations(cluster, 'mem-steady');
  churn = new Integrations(cluster, 'mem-churn');
  const port = await freePort();
  operator = await OperatorProcess.start(cluster, {
    identity: 'memory-churn',
    nodeArgs: [`--inspect=127.0.0.1:${port}`],
    env: { LOG_LEVEL: 'info' },
  });
  inspector = await Inspector.connect(port);
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
});

afterAll(async () => {
  inspector.close();
  await operator.stop();
  await cluster.stop();
});

/** Spec of Integration `i`: every RUN_EVERY-th runs every 10 s, the others are idle or suspended. */
function spec(i: number, revision: number): Record<string, unknown> {
  const base = loadSpec();
  const source = { ...(base.source as object), resource: revision === 1 ? 'customers' : 'charges' };
  if (i % RUN_EVERY === 0) return { ...base, source };
  const idle = { sync: { schedule: YEARLY }, drift: { schedule: YEARLY } };
  return { ...base, source, suspend: i % 2 === 1, overrides: idle };
}

async function create(integrations: Integrations, names: readonly string[], first: number) {
  for (const [i, name] of names.entries()) {
    await integrations.createObject('integrations', {
      kind: 'Integration',
      metadata: { name },
      spec: spec(first + i, 1),
    });
  }
}

async function list(integrations: Integrations): Promise<StoredIntegration[]> {
  const listed = await cluster.kubectl([
    'get',
    'integrations',
    '-n',
    integrations.namespace,
    '-o',
    'json',
  ]);
  if (listed.code !== 0) throw new Error(`kubectl get integrations: ${listed.stderr}`);
  return (JSON.parse(listed.stdout) as { items: StoredIntegration[] }).items;
}

/**
 * Waits until each of `names` is reconciled at its current generation (`generation`), with a
 * Ready condition, and the running ones (`first + i` a multiple of RUN_EVERY) have a finished sync.
 */
async function reconciled(
  integrations: Integrations,
  names: readonly string[],
  first: number,
  generation: number,
) {
  await waitFor(
    `${names.length} Integrations in ${integrations.namespace} reconciled at generation ${generation}`,
    async () => {
      const items = new Map((await list(integrations)).map((i) => [i.metadata.name, i]));
      const done = names.every((name, i) => {
        const status = items.get(name)?.status;
        if (status?.observedGeneration !== generation) return false;
        if (!status.conditions?.some((c) => c.type === 'Ready')) return false;
        return (first + i) % RUN_EVERY !== 0 || status.lastSync !== undefined;
      });
      return done ? true : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1000 },
  );
}

/** The operator's heap once settled: the median of 3 forced-GC samples, 5 s apart. */
async function settledHeap(): Promise<HeapSample> {
  const samples: HeapSample[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    samples.push(await inspector.heap());
  }
  const byUsed = samples.sort((a, b) => a.usedBytes - b.usedBytes);
  const median = byUsed[1];
  if (median === undefined) throw new Error('no heap sample');
  return median;
}

/** One wave: create, wait, update the spec, wait, delete, wait until gone; the heap at its top. */
async function wave(index: number): Promise<HeapSample> {
  const first = index * CHURN.size;
  const names = Array.from({ length: CHURN.size }, (_, i) => `churn-${first + i}`);
  await create(churn, names, first);
  await reconciled(churn, names, first, 1);
  for (const [i, name] of names.entries()) await churn.patch(name, { spec: spec(first + i, 2) });
  await reconciled(churn, names, first, 2);
  const top = await inspector.heap();
  const deleted = await cluster.kubectl([
    'delete',
    'integrations',
    '--all',
    '-n',
    'mem-churn',
    '--wait=true',
  ]);
  if (deleted.code !== 0) throw new Error(`kubectl delete integrations: ${deleted.stderr}`);
  return top;
}

/** Waits until nothing of the churn is left: no Integration, no Job, no metric series. */
async function churnGone(): Promise<void> {
  const batch = cluster.kubeConfig.makeApiClient(BatchV1Api);
  await waitFor(
    'the churned Integrations, their Jobs and their metric series to be gone',
    async () => {
      const jobs = await batch.listNamespacedJob({ namespace: 'mem-churn' });
      const metrics = (await operator.get('/metrics'))?.body ?? 'unanswered';
      const series = metrics.includes('namespace="mem-churn"');
      return jobs.items.length === 0 && !series && (await list(churn)).length === 0
        ? true
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 2000 },
  );
}

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

it('returns the heap to within 10 % of its level before the churn', async () => {
  const empty = await settledHeap();
  const steadyNames = Array.from({ length: STEADY }, (_, i) => `steady-${i}`);
  await create(steady, steadyNames, 0);
  await reconciled(steady, steadyNames, 0, 1);
  const before = await settledHeap();
  const tops: HeapSample[] = [];
  for (let i = 0; i < CHURN.waves; i++) tops.push(await wave(i));
  await churnGone();
  const after = await settledHeap();
  const peak = Math.max(...tops.map((top) => top.usedBytes));
  const metrics = (await operator.get('/metrics'))?.body ?? '';
  const leaks = await sentinelLeaks(cluster, {
    paths: [operator.logPath, cluster.info.nodeDir],
    texts: [{ what: 'operator /metrics', text: metrics }],
  });
  const ratio = after.usedBytes / before.usedBytes;
  // A timer beyond 24.8 days (the yearly cron) once fired at once, in a loop (operator/lib/clock.ts).
  const overflows =
    readFileSync(operator.logPath, 'utf8').split('TimeoutOverflowWarning').length - 1;
  report('memory-churn', {
    objects_churned: CHURN.waves * CHURN.size,
    waves: CHURN.waves,
    steady: STEADY,
    heap_empty_mb: mb(empty.usedBytes),
    heap_before_mb: mb(before.usedBytes),
    heap_peak_mb: mb(peak),
    heap_after_mb: mb(after.usedBytes),
    ratio: Math.round(ratio * 1000) / 1000,
    heap_per_integration_kb: Math.round((peak - before.usedBytes) / (CHURN.size * 1024)),
    heap_per_steady_integration_kb: Math.round(
      (before.usedBytes - empty.usedBytes) / (STEADY * 1024),
    ),
    rss_before_mb: mb(before.rssBytes),
    rss_after_mb: mb(after.rssBytes),
    operator_restarts: operator.running ? 0 : 1,
    timer_overflows: overflows,
    sentinel_leaks: leaks.length,
  });
  expect(overflows).toBe(0);
  expect(operator.running).toBe(true);
  expect(leaks).toEqual([]);
  expect(ratio).toBeLessThanOrEqual(TARGET_RATIO);
});
