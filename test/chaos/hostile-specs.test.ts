/**
 * Issue 14, point 7: hostile specs. fast-check draws batches of ReconcilePolicies and
 * Integrations, valid (derived from the CRDs, repaired with the zod schemas) or mutated once
 * (huge strings, unicode, deep nesting and ~1 MiB objects, extreme numbers, wrong types, unknown
 * fields, odd durations, cron and time zones, hostile annotations), and applies each batch to the
 * real API server in a fresh namespace, with one operator running out of process. Property: the
 * API server rejects an object with a 4xx, or admits it and the operator writes a condition for
 * its generation within one reconcile; the operator never exits and /readyz stays 200. A failure
 * prints fast-check's seed and path; CHAOS_SEED (and CHAOS_PATH) replay it.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../dev/cluster/cluster.ts';
import { QUICK_CONNECTOR_IMAGE } from '../../dev/cluster/images.ts';
import type { OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { IntegrationSpec } from '../../operator/api/integration.ts';
import { ReconcilePolicySpec } from '../../operator/api/policy.ts';
import { batch, CREDENTIALS, type Case } from './support/arbitraries.ts';
import { startChaosCluster, startReadyOperator } from './support/cluster.ts';
import { count, report } from './support/figures.ts';
import { createdJobs } from './support/ledger.ts';
import { rawRequest, rejectionReasons } from './support/raw-api.ts';
import { REGRESSIONS } from './support/regressions.ts';
import { SENTINEL, sentinelLeaks, sentinelSecret } from './support/sentinels.ts';

const RUNS = count(40, 400);
/** One reconcile, bounded: an admitted object without its condition after this is a wedge. */
const CONDITION_WAIT_MS = 30_000;

let cluster: Cluster;
let operator: OperatorProcess;

beforeAll(async () => {
  cluster = await startChaosCluster();
  operator = await startReadyOperator(cluster);
});

afterAll(async () => {
  await operator.stop();
  await cluster.stop();
});

/** What the runs counted. */
const tally = {
  runs: 0,
  objects: 0,
  admitted: 0,
  rejected: 0,
  conditioned: 0,
  crashes: 0,
  wedges: 0,
  readyzFailures: 0,
  /** Batch namespaces whose objects, Events, Jobs or pods held the sentinel. */
  leaks: [] as string[],
  /** Unmutated objects the API server refused: the CRD stricter than zod. */
  validRejected: 0,
  /** Admitted objects whose stored spec zod refuses (the CRD looser than zod). */
  admittedInvalid: 0,
  rejections: new Map<string, number>(),
  reasons: new Map<string, number>(),
};

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const summary = (map: Map<string, number>) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key}:${n}`)
    .join(',');

const plural = (kind: Case['kind']) =>
  kind === 'Integration' ? 'integrations' : 'reconcilepolicies';

interface Stored {
  metadata: { name: string; generation?: number };
  spec?: unknown;
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; observedGeneration?: number }[];
  };
}

/** The Ready (or Stalled) condition written for the stored generation, if any. */
function conditionFor(object: Stored) {
  const generation = object.metadata.generation;
  if (object.status?.observedGeneration !== generation) return undefined;
  return object.status?.conditions?.find(
    (c) =>
      (c.type === 'Ready' || c.type === 'Stalled') &&
      c.reason !== undefined &&
      c.observedGeneration === generation,
  );
}

/** Creates one object; counts a rejection, or waits for its condition and judges it. */
async function applyCase(namespace: string, item: Case): Promise<void> {
  tally.objects++;
  const base = `/apis/tributary.dev/v1alpha1/namespaces/${namespace}/${plural(item.kind)}`;
  const answer = await rawRequest(cluster, 'POST', base, item.body);
  const what = `${item.kind} (${item.mutation}) in ${namespace}`;
  // etcd's own limit (1.5 MiB per request) answers 500 before admission size checks could: the
  // object was refused, not stored (found by seed 1148241573 in the short form).
  const tooLarge =
    answer.status === 500 && /request is too large/.test(String(answer.body.message));
  if (!tooLarge && (answer.status >= 500 || answer.status < 200))
    throw new Error(
      `${what}: the API server answered ${answer.status}: ${String(answer.body.message)}`,
    );
  if (answer.status >= 400 || tooLarge) {
    tally.rejected++;
    const { reason, causes } = rejectionReasons(answer);
    bump(tally.rejections, `${answer.status}${reason}`);
    for (const cause of new Set(causes)) bump(tally.reasons, cause);
    if (item.mutation === 'valid') {
      tally.validRejected++;
      throw new Error(`${what}: a valid object was refused: ${String(answer.body.message)}`);
    }
    return;
  }
  tally.admitted++;
  const name = (answer.body.metadata as { name: string }).name;
  const stored = await waitForCondition(`${base}/${encodeURIComponent(name)}`, what);
  tally.conditioned++;
  const schema = item.kind === 'Integration' ? IntegrationSpec : ReconcilePolicySpec;
  if (!schema.safeParse(stored.spec ?? {}).success) {
    tally.admittedInvalid++;
    const ready = stored.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') throw new Error(`${what}: an invalid spec was called Ready`);
  }
}

async function waitForCondition(path: string, what: string): Promise<Stored> {
  const deadline = Date.now() + CONDITION_WAIT_MS;
  for (;;) {
    const answer = await rawRequest(cluster, 'GET', path);
    const stored = answer.body as unknown as Stored;
    if (answer.status === 200 && conditionFor(stored) !== undefined) return stored;
    if (!operator.running) break;
    if (Date.now() > deadline) {
      tally.wedges++;
      throw new Error(
        `${what}: no condition for generation ${String(stored.metadata.generation)} within ` +
          `${CONDITION_WAIT_MS} ms; status ${JSON.stringify(stored.status ?? {}).slice(0, 400)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  tally.crashes++;
  throw new Error(`${what}: the operator exited`);
}

/** A fresh namespace with the sentinel Secret the generated credentialsRefs name. */
async function freshNamespace(): Promise<string> {
  const namespace = `fuzz-${randomBytes(4).toString('hex')}`;
  const created = await rawRequest(cluster, 'POST', '/api/v1/namespaces', {
    metadata: { name: namespace },
  });
  if (created.status !== 201) throw new Error(`namespace ${namespace}: ${created.status}`);
  await sentinelSecret(cluster, namespace, CREDENTIALS.name, CREDENTIALS.keys);
  return namespace;
}

async function runBatch(cases: Case[]): Promise<void> {
  tally.runs++;
  const namespace = await freshNamespace();
  const policies = cases.filter((item) => item.kind === 'ReconcilePolicy');
  const integrations = cases.filter((item) => item.kind === 'Integration');
  await Promise.all(policies.map((item) => applyCase(namespace, item)));
  await Promise.all(integrations.map((item) => applyCase(namespace, item)));
  if (!operator.running) {
    tally.crashes++;
    throw new Error('the operator exited');
  }
  if ((await operator.get('/readyz'))?.status !== 200) {
    tally.readyzFailures++;
    throw new Error(`/readyz is not 200 after the batch in ${namespace}`);
  }
  await scanAndDelete(namespace);
}

/**
 * Scans the batch's API objects for the sentinel, then deletes its namespace (not awaited): the
 * end-of-run scan lists every namespace at once, which past a few hundred ~1 MiB objects exceeds
 * what one string holds.
 */
async function scanAndDelete(namespace: string): Promise<void> {
  const group = `/apis/tributary.dev/v1alpha1/namespaces/${namespace}`;
  const paths = [
    `${group}/integrations`,
    `${group}/reconcilepolicies`,
    `/api/v1/namespaces/${namespace}/events`,
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    `/api/v1/namespaces/${namespace}/pods`,
  ];
  for (const path of paths) {
    const listed = await rawRequest(cluster, 'GET', path);
    if (listed.status !== 200) throw new Error(`GET ${path}: ${listed.status}`);
    if (listed.text.includes(SENTINEL)) tally.leaks.push(path);
  }
  const deleted = await rawRequest(cluster, 'DELETE', `/api/v1/namespaces/${namespace}`);
  if (deleted.status >= 300) throw new Error(`DELETE namespace ${namespace}: ${deleted.status}`);
}

/** A plain valid Integration still runs and turns Ready after the run. */
async function plainIntegrationReconciles(): Promise<void> {
  const namespace = await freshNamespace();
  const spec = {
    connector: { image: QUICK_CONNECTOR_IMAGE },
    source: {
      provider: 'stripe',
      resource: 'customers',
      credentialsRef: { name: CREDENTIALS.name, key: 'apiKey' },
    },
    destination: { url: 'http://127.0.0.1:9/records/{id}' },
  };
  const body = {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'Integration',
    metadata: { name: 'plain' },
    spec,
  };
  const base = `/apis/tributary.dev/v1alpha1/namespaces/${namespace}/integrations`;
  expect((await rawRequest(cluster, 'POST', base, body)).status).toBe(201);
  await waitFor(
    'the plain Integration to run and be Ready',
    async () => {
      const stored = (await rawRequest(cluster, 'GET', `${base}/plain`)).body as unknown as Stored;
      const ready = stored.status?.conditions?.find((c) => c.type === 'Ready');
      const ran = createdJobs(cluster.auditLogPath, [namespace]).length > 0;
      return ran && ready?.status === 'True' ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

describe('hostile specs', () => {
  it.each(REGRESSIONS.map((r) => [`${r.name} (${r.foundBy})`, r] as const))(
    'regression: %s',
    async (_, regression) => {
      const namespace = await freshNamespace();
      const before = { admitted: tally.admitted, rejected: tally.rejected };
      await applyCase(namespace, regression.item);
      const outcome = tally.admitted > before.admitted ? 'admitted' : 'rejected';
      expect(outcome).toBe(regression.expect);
    },
  );

  it('are refused by the API server or conditioned by the operator, which never crashes or wedges', async () => {
    const started = Date.now();
    const seed =
      process.env.CHAOS_SEED !== undefined
        ? Number(process.env.CHAOS_SEED)
        : randomBytes(4).readInt32LE();
    console.log(`hostile-specs seed=${seed} (replay: CHAOS_SEED=${seed})`);
    let failure: Error | undefined;
    try {
      await fc.assert(fc.asyncProperty(batch, runBatch), {
        numRuns: RUNS,
        seed,
        ...(process.env.CHAOS_PATH !== undefined ? { path: process.env.CHAOS_PATH } : {}),
        endOnFailure: process.env.CHAOS_SHRINK !== '1',
      });
    } catch (error) {
      failure = error as Error;
    }
    const plainStarted = Date.now();
    let plainReconciled = false;
    try {
      await plainIntegrationReconciles();
      plainReconciled = true;
    } catch (error) {
      failure ??= error as Error;
    }
    const metrics = (await operator.get('/metrics'))?.body ?? '';
    const leaks = await sentinelLeaks(cluster, {
      paths: [operator.logPath, cluster.info.nodeDir],
      texts: [{ what: 'operator /metrics', text: metrics }],
    });
    report('hostile-specs', {
      runs: tally.runs,
      objects: tally.objects,
      admitted: tally.admitted,
      rejected: tally.rejected,
      conditioned: tally.conditioned,
      admittedInvalid: tally.admittedInvalid,
      validRejected: tally.validRejected,
      crashes: operator.running ? tally.crashes : Math.max(1, tally.crashes),
      wedges: tally.wedges,
      readyzFailures: tally.readyzFailures,
      rejectedBy: summary(tally.rejections),
      causes: summary(tally.reasons),
      plainReconciled,
      plainAfterMs: Date.now() - plainStarted,
      leaks: leaks.length + tally.leaks.length,
      seed,
      failed: failure !== undefined,
      durationMs: Date.now() - started,
    });
    if (failure !== undefined) throw failure;
    expect([...leaks, ...tally.leaks]).toEqual([]);
    expect(operator.running).toBe(true);
    expect(tally.admitted + tally.rejected).toBe(tally.objects);
    expect(tally.conditioned).toBe(tally.admitted);
  });
});
