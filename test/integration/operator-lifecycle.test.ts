import { CoordinationV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_NAMESPACE } from '../../manifests/src/app.ts';
import { JobAnnotation } from '../../operator/controller/plan/job.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { Integrations } from '../support/integrations.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { cluster, createNamespace, deleteNamespaces } from '../support/cluster.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
const coordination = client.kubeConfig.makeApiClient(CoordinationV1Api);
const running: OperatorProcess[] = [];

beforeAll(async () => {
  await installOperator(client);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((operator) => operator.stop()));
  await deleteNamespaces(client);
});

async function start(options: Parameters<typeof OperatorProcess.start>[1] = {}) {
  const operator = await OperatorProcess.start(client, options);
  running.push(operator);
  return operator;
}

async function fresh(prefix: string): Promise<Integrations> {
  return new Integrations(client, await createNamespace(client, prefix));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** [start, end] of each Job in ms; end is now for a Job still running. */
function spans(jobs: V1Job[]): [number, number][] {
  return jobs.map((job) => {
    const started = new Date(
      job.status?.startTime ?? job.metadata?.creationTimestamp ?? 0,
    ).getTime();
    const finished = job.status?.conditions?.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    )?.lastTransitionTime;
    return [started, finished ? new Date(finished).getTime() : Date.now()];
  });
}

const pairOf = (job: V1Job) =>
  `${job.metadata?.annotations?.[JobAnnotation.DueTime] ?? ''}#${job.metadata?.annotations?.[JobAnnotation.Attempt] ?? ''}`;

describe('concurrency policy', () => {
  it('Forbid never runs two syncs at once', async () => {
    await start();
    const integrations = await fresh('forbid');
    await integrations.create(
      'slow',
      { sleepSeconds: 14 },
      { overrides: { sync: { interval: '10s', jitter: '0%', concurrencyPolicy: 'Forbid' } } },
    );
    await waitFor(
      'three runs',
      async () => ((await integrations.jobs('slow')).length >= 3 ? true : undefined),
      {
        timeoutMs: 90_000,
      },
    );
    const intervals = spans(await integrations.jobs('slow')).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < intervals.length; i++) {
      expect(intervals[i]?.[0]).toBeGreaterThanOrEqual(intervals[i - 1]?.[1] ?? 0);
    }
  });

  it('Replace stops the running sync and starts the due one', async () => {
    await start();
    const integrations = await fresh('replace');
    await integrations.create(
      'slow',
      { sleepSeconds: 60 },
      { overrides: { sync: { interval: '10s', jitter: '0%', concurrencyPolicy: 'Replace' } } },
    );
    const first = await waitFor('the first run', async () => (await integrations.jobs('slow'))[0]);
    await waitFor(
      'a replacement',
      async () => {
        const jobs = await integrations.jobs('slow');
        return jobs.length >= 1 && jobs.every((job) => job.metadata?.name !== first.metadata?.name)
          ? true
          : undefined;
      },
      { timeoutMs: 40_000 },
    );
    const active = (await integrations.jobs('slow')).filter((job) => !job.status?.completionTime);
    expect(active.length).toBeLessThanOrEqual(1);
    const status = (await integrations.get('slow')).status;
    expect(status?.activeRun?.jobName).not.toBe(first.metadata?.name);
  });
});

describe('crash safety', () => {
  it('never creates a second Job for an attempt when killed between Job creation and status write', async () => {
    const integrations = await fresh('crash');
    await integrations.create(
      'crashy',
      {},
      { overrides: { sync: { interval: '10s', jitter: '0%' } } },
    );
    for (let crash = 0; crash < 3; crash++) {
      // Without leader election, so each restart does not wait for the dead holder's Lease.
      const faulty = await start({
        leaderElection: false,
        namespace: integrations.namespace,
        env: { TRIBUTARY_FAULT_INJECTION: 'crash-after-job-create' },
      });
      await faulty.exited();
      expect(faulty.running).toBe(false);
    }
    await start({ leaderElection: false, namespace: integrations.namespace });
    await integrations.waitForCondition('crashy', 'Ready', 'True');
    await sleep(2000);
    const jobs = await integrations.jobs('crashy');
    const pairs = jobs.map(pairOf);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    // The status names the latest run's due time. Read between two runs (10 s apart): a run may
    // start while the Jobs are listed, its status write a moment after its Job's create.
    const consistent = await waitFor('the status and the Jobs to agree', async () => {
      const before = (await integrations.get('crashy')).status?.lastScheduledTime;
      const latestDue = (await integrations.jobs('crashy'))
        .map((job) => job.metadata?.annotations?.[JobAnnotation.DueTime] ?? '')
        .sort()
        .at(-1);
      const after = (await integrations.get('crashy')).status?.lastScheduledTime;
      return before === after && after === latestDue ? { after, latestDue } : undefined;
    });
    expect(consistent.latestDue).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe('leader election', () => {
  async function holder(): Promise<string | undefined> {
    const lease = await coordination
      .readNamespacedLease({ name: 'tributary-operator', namespace: OPERATOR_NAMESPACE })
      .catch(() => undefined);
    return lease?.spec?.holderIdentity ?? undefined;
  }

  it('elects one leader, and the other replica takes over when it dies', async () => {
    const a = await start({ identity: 'replica-a' });
    await waitFor('replica-a to lead', async () =>
      (await holder()) === 'replica-a' ? true : undefined,
    );
    const b = await start({ identity: 'replica-b' });
    await waitFor('replica-b to be ready', async () =>
      (await b.get('/readyz'))?.status === 200 ? true : undefined,
    );
    const integrations = await fresh('leader');
    await integrations.create('first', {}, { overrides: { sync: { interval: '1h' } } });
    await integrations.waitForCondition('first', 'Ready', 'True');
    expect(await holder()).toBe('replica-a');
    expect((await b.get('/metrics'))?.body).toMatch(/^tributary_leader 0$/m);

    await a.kill();
    await waitFor(
      'replica-b to lead',
      async () => ((await holder()) === 'replica-b' ? true : undefined),
      {
        timeoutMs: 40_000,
      },
    );
    await integrations.create('second', {}, { overrides: { sync: { interval: '1h' } } });
    await integrations.waitForCondition('second', 'Ready', 'True');
    expect((await b.get('/metrics'))?.body).toMatch(/^tributary_leader 1$/m);
  });

  it('hands over at once on a graceful stop (the Lease is released)', async () => {
    const a = await start({ identity: 'replica-c' });
    await waitFor(
      'replica-c to lead',
      async () => ((await holder()) === 'replica-c' ? true : undefined),
      {
        timeoutMs: 40_000,
      },
    );
    await start({ identity: 'replica-d' });
    const stoppedAt = Date.now();
    await a.stop();
    await waitFor(
      'replica-d to lead',
      async () => ((await holder()) === 'replica-d' ? true : undefined),
      {
        timeoutMs: 15_000,
      },
    );
    // Without the release, the takeover would wait for the 15s lease to expire.
    expect(Date.now() - stoppedAt).toBeLessThan(14_000);
  });
});

describe('policies and steady state', () => {
  it('reports a missing ReconcilePolicy and recovers when it appears; the policy counts its users', async () => {
    await start();
    const integrations = await fresh('policy');
    await integrations.create('governed', {}, { policyRef: { name: 'hourly' } });
    const stalled = await integrations.waitForCondition(
      'governed',
      'Stalled',
      'True',
      'PolicyNotFound',
    );
    expect(stalled.message).toContain('"hourly"');
    await integrations.createObject('reconcilepolicies', {
      kind: 'ReconcilePolicy',
      metadata: { name: 'hourly' },
      spec: { sync: { interval: '1h' }, retry: { maxAttempts: 2 } },
    });
    await integrations.waitForCondition('governed', 'Ready', 'True');
    const status = (await integrations.get('governed')).status;
    expect(status?.effectivePolicy?.sync.interval).toBe('1h');
    expect(status?.effectivePolicy?.retry.maxAttempts).toBe(2);
    // What `kubectl get rpol` shows: Ready and the number of Integrations using the policy.
    const policy = await waitFor('the policy status', async () => {
      const shown = await client.kubectl([
        'get',
        'rpol',
        'hourly',
        '-n',
        integrations.namespace,
        '-o',
        'json',
      ]);
      const parsed = JSON.parse(shown.stdout) as {
        status?: { integrationCount?: number; conditions?: { type: string; status: string }[] };
      };
      return parsed.status?.integrationCount === 1 ? parsed : undefined;
    });
    expect(policy.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('issues no writes in a steady state (a quiet minute)', async () => {
    await start();
    const integrations = await fresh('quiet');
    await integrations.create('still', {}, { overrides: { sync: { interval: '1h' } } });
    await integrations.waitForCondition('still', 'Ready', 'True');
    await sleep(3000);
    const before = await integrations.get('still');
    const listed = (await core.listNamespacedEvent({ namespace: integrations.namespace })).items;
    // The way here was recorded (a run started and succeeded, Ready turned True), so "no new
    // Events" below is a real check, not zero against zero.
    expect(listed.map((event) => event.reason)).toEqual(
      expect.arrayContaining(['RunStarted', 'RunSucceeded', 'Succeeded']),
    );
    // Neither a new Event nor a repeat (a patched count) of one.
    const versions = (events: typeof listed) =>
      events.map((event) => `${event.metadata.name} ${event.metadata.resourceVersion}`).sort();
    const jobsBefore = (await integrations.jobs('still')).length;
    await sleep(60_000);
    const after = await integrations.get('still');
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const listedAfter = (await core.listNamespacedEvent({ namespace: integrations.namespace }))
      .items;
    expect(versions(listedAfter)).toEqual(versions(listed));
    expect(await integrations.jobs('still')).toHaveLength(jobsBefore);
  });
});
