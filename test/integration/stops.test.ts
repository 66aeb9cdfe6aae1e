/**
 * What stops and what never overlaps, on the real control plane, over real minutes: a stalled
 * Integration starts nothing until a Secret it uses changes; a sync and a drift check of one
 * Integration never run at once; a run whose image cannot be pulled is ended within minutes;
 * drift checks run only when they can. The long cases run concurrently against one operator.
 */
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../dev/cluster/processes.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { JobLabel } from '../../operator/controller/plan/job.ts';
import { Integrations } from '../support/integrations.ts';
import { cluster, createNamespace, deleteNamespaces } from '../support/cluster.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
const batch = client.kubeConfig.makeApiClient(BatchV1Api);
let operator: OperatorProcess;

const MINUTE = 60_000;
/** How long the acceptance watches a stalled or a busy Integration. */
const WATCH_MS = 10 * MINUTE;
const LONG = WATCH_MS + 3 * MINUTE;

beforeAll(async () => {
  await installOperator(client);
  operator = await OperatorProcess.start(client);
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
});

afterAll(async () => {
  await deleteNamespaces(client);
  await operator.stop();
});

async function fresh(prefix: string): Promise<Integrations> {
  return new Integrations(client, await createNamespace(client, prefix));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When each Job of an Integration ran, as seen by polling until `until` (Jobs get pruned). */
async function watchJobs(
  integrations: Integrations,
  name: string,
  until: number,
): Promise<Map<string, { kind: string; start: number; end: number | undefined }>> {
  const { uid } = (await integrations.get(name)).metadata;
  const seen = new Map<string, { kind: string; start: number; end: number | undefined }>();
  while (Date.now() < until) {
    const list = await batch.listNamespacedJob({
      namespace: integrations.namespace,
      labelSelector: `${JobLabel.IntegrationUID}=${uid}`,
    });
    for (const job of list.items) record(seen, job);
    await sleep(1000);
  }
  return seen;
}

function record(
  seen: Map<string, { kind: string; start: number; end: number | undefined }>,
  job: V1Job,
): void {
  const name = job.metadata?.name ?? '';
  const start = new Date(job.status?.startTime ?? job.metadata?.creationTimestamp ?? 0).getTime();
  const finished = job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  const end = finished ? new Date(finished.lastTransitionTime ?? 0).getTime() : undefined;
  const kind = job.metadata?.labels?.[JobLabel.RunKind] ?? '';
  seen.set(name, { kind, start, end: end ?? seen.get(name)?.end });
}

describe.concurrent('stopped means stopped, and runs never overlap', () => {
  it(
    'a 401-stalled Integration on a 1-minute interval starts no Job for 10 minutes; a Secret update starts one within 30 s',
    async () => {
      const integrations = await fresh('held');
      await core.createNamespacedSecret({
        namespace: integrations.namespace,
        body: { metadata: { name: 'api-key' }, stringData: { apiKey: 'revoked' } },
      });
      await integrations.create(
        'revoked',
        { attempts: [{ outcome: 'Failed', class: 'Authentication', message: 'HTTP 401' }] },
        {
          source: {
            provider: 'stripe',
            resource: 'customers',
            credentialsRef: { name: 'api-key', key: 'apiKey' },
          },
          overrides: { sync: { interval: '1m', jitter: '0%' } },
        },
      );
      const stalled = await integrations.waitForCondition(
        'revoked',
        'Stalled',
        'True',
        'AuthenticationFailed',
      );
      expect(stalled.message).toContain('one run probes at');
      expect((await integrations.get('revoked')).status?.nextProbeTime).toBeDefined();
      const jobs = async () => (await integrations.jobs('revoked')).map((j) => j.metadata?.name);
      const before = await jobs();
      expect(before).toHaveLength(1);

      await sleep(WATCH_MS);
      expect(await jobs()).toEqual(before);

      await core.replaceNamespacedSecret({
        name: 'api-key',
        namespace: integrations.namespace,
        body: { metadata: { name: 'api-key' }, stringData: { apiKey: 'rotated' } },
      });
      const changedAt = Date.now();
      await waitFor(
        'a run after the Secret changed',
        async () => ((await jobs()).length > before.length ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(Date.now() - changedAt).toBeLessThan(30_000);
      expect(await jobs()).toHaveLength(before.length + 1);
    },
    LONG,
  );

  it(
    'with sync and drift both on short intervals for 10 minutes, a sync Job and a drift Job are never active at once',
    async () => {
      const integrations = await fresh('overlap');
      await integrations.create(
        'busy',
        { sleepSeconds: 8 },
        {
          overrides: {
            sync: { interval: '20s', jitter: '0%', concurrencyPolicy: 'Replace' },
            drift: { interval: '1m' },
            history: { successfulRuns: 100, failedRuns: 100 },
          },
        },
      );
      const seen = await watchJobs(integrations, 'busy', Date.now() + WATCH_MS);
      const runs = [...seen.entries()].map(([name, run]) => ({ name, ...run }));
      const syncs = runs.filter((run) => run.kind === 'sync');
      const checks = runs.filter((run) => run.kind === 'drift-check');
      // Enough of both that an overlap had many chances (a loaded machine runs fewer).
      expect(syncs.length).toBeGreaterThan(5);
      expect(checks.length).toBeGreaterThan(2);
      for (const check of checks) {
        for (const sync of syncs) {
          const overlap =
            sync.start < (check.end ?? Infinity) && check.start < (sync.end ?? Infinity);
          expect(overlap, `${sync.name} overlaps ${check.name}`).toBe(false);
        }
      }
    },
    LONG,
  );

  it(
    'a connector image that cannot be pulled is Stalled with ImagePullFailed within 3 minutes',
    async () => {
      const integrations = await fresh('image');
      await integrations.createObject('integrations', {
        kind: 'Integration',
        metadata: { name: 'unpullable' },
        spec: { connector: { image: 'registry.invalid/acme/missing:1.0.0' } },
      });
      const started = Date.now();
      const stalled = await integrations.waitForCondition(
        'unpullable',
        'Stalled',
        'True',
        'ImagePullFailed',
        3 * MINUTE,
      );
      expect(Date.now() - started).toBeLessThan(3 * MINUTE);
      expect(stalled.message).toContain('registry.invalid/acme/missing:1.0.0');
      // The node reports it as a kubelet does: ErrImagePull, then ImagePullBackOff.
      expect(stalled.message).toContain('ImagePullBackOff: Back-off pulling image');
      const status = (await integrations.get('unpullable')).status;
      expect(status?.lastSync).toMatchObject({ outcome: 'Failed', reason: 'ImagePullFailed' });
      expect(status?.activeRun).toBeUndefined();
      // Events are recorded right after the status write.
      await waitFor('the ImagePullFailed Warning Event', async () => {
        const events = await core.listNamespacedEvent({ namespace: integrations.namespace });
        const reasons = events.items.map((e) => `${e.type ?? ''}/${e.reason ?? ''}`);
        return reasons.includes('Warning/ImagePullFailed') ? true : undefined;
      });
    },
    5 * MINUTE,
  );

  it(
    'without destination.list no drift Job runs and Drifted says why; drift.mode Off runs none; a failing check is DriftCheckFailed',
    async () => {
      const integrations = await fresh('drift');
      const builtIn = {
        source: {
          provider: 'http',
          baseURL: 'http://127.0.0.1:9',
          http: { path: '/items' },
        },
        destination: { url: 'http://127.0.0.1:9/items/{id}' },
        overrides: { drift: { interval: '1m' } },
      };
      await integrations.createObject('integrations', {
        kind: 'Integration',
        metadata: { name: 'unlisted' },
        spec: builtIn,
      });
      await integrations.create(
        'off',
        {},
        { overrides: { drift: { interval: '1m', mode: 'Off' } } },
      );
      await integrations.create(
        'failing',
        {
          driftAttempts: [{ outcome: 'Failed', class: 'ServerError', message: 'HTTP 503 listing' }],
        },
        { overrides: { drift: { interval: '1m' }, retry: { maxAttempts: 1 } } },
      );
      const failed = await integrations.waitForCondition(
        'failing',
        'Drifted',
        'Unknown',
        'DriftCheckFailed',
        3 * MINUTE,
      );
      expect(failed.message).toContain('HTTP 503 listing');
      expect(await integrations.condition('unlisted', 'Drifted')).toMatchObject({
        status: 'Unknown',
        reason: 'DriftCheckNotConfigured',
        message: expect.stringContaining('set spec.destination.list') as unknown,
      });
      expect(await integrations.condition('off', 'Drifted')).toMatchObject({
        reason: 'DriftCheckDisabled',
      });
      for (const name of ['unlisted', 'off']) {
        const kinds = (await integrations.jobs(name)).map(
          (j) => j.metadata?.labels?.[JobLabel.RunKind],
        );
        expect(kinds, name).not.toContain('drift-check');
      }
    },
    5 * MINUTE,
  );
});
