/**
 * The objects of the scale benchmark, the same load on both sides: N Integrations (Tributary)
 * and N CronJobs (the CronJob controller) with the same cron schedules (UTC, no jitter) and,
 * for the CronJobs, a Job pod template placed on kwok's fake Nodes that completes after a fixed
 * delay. "A few due every minute and the rest rarely": the first `everyMinute` objects run
 * `* * * * *`, the others once a year on a day months away from today, so nothing of theirs
 * falls due while the benchmark runs.
 */
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { ClusterClient } from '../../dev/cluster/cluster.ts';
import { KWOK_PLACEMENT, kwokPodTemplate, podCompleteWithMessage } from '../../dev/cluster/kwok.ts';

/** The namespace of each side's objects. */
export const SCALE_NAMESPACES = { tributary: 'scale-tributary', cronjob: 'scale-cronjob' } as const;

/** The Secret every Integration's source refers to (it is never read by a run here). */
const CREDENTIALS = 'scale-credentials';

/** How long a run's pod runs on kwok before it Succeeds, ms. */
export const RUN_POD_MS = 2000;

/** What {@link schedules} makes. */
export interface LoadShape {
  /** Objects per side. */
  count: number;
  /** How many of them run every minute (the rest: yearly, not during the run). */
  everyMinute: number;
  /** Today, for choosing the rare schedules' month. Default now. */
  now?: Date;
}

/** The cron schedule of each object, index i for both sides' object i. */
export function schedules(shape: LoadShape): string[] {
  const now = shape.now ?? new Date();
  // Six months from the current one (1-based): never this month or the next.
  const month = ((now.getUTCMonth() + 6) % 12) + 1;
  return Array.from({ length: shape.count }, (_, i) =>
    i < shape.everyMinute
      ? '* * * * *'
      : `${i % 60} ${Math.floor(i / 60) % 24} ${(i % 28) + 1} ${month} *`,
  );
}

/** Object i's name, on both sides. */
export function objectName(i: number): string {
  return `scale-${String(i).padStart(5, '0')}`;
}

/** How late a due run may still start, on both sides: an hour, so a burst never skips one. */
export const STARTING_DEADLINE_SECONDS = 3600;

/** What a run pod on kwok ends with: the result a connector that synced nothing writes. */
const RUN_RESULT = '{"version":"tributary.dev/result/v1","outcome":"Succeeded"}';

/**
 * An Integration that syncs on `schedule`, jitter off, drift checks off, whose run pods go to
 * kwok with the CronJobs' placement and delay, and end with {@link RUN_RESULT} as their
 * termination message (dev/cluster/kwok-stages.ts), as a real connector's container would.
 */
export function integration(name: string, schedule: string): Record<string, unknown> {
  return {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'Integration',
    metadata: { name, namespace: SCALE_NAMESPACES.tributary },
    spec: {
      source: {
        provider: 'stripe',
        resource: 'customers',
        baseURL: 'http://127.0.0.1:9/',
        credentialsRef: { name: CREDENTIALS, key: 'apiKey' },
      },
      destination: { url: 'http://127.0.0.1:9/records/{id}' },
      overrides: {
        sync: {
          schedule,
          timeZone: 'Etc/UTC',
          jitter: '0%',
          concurrencyPolicy: 'Forbid',
          startingDeadline: `${STARTING_DEADLINE_SECONDS}s`,
        },
        drift: { mode: 'Off' },
        run: {
          nodeSelector: KWOK_PLACEMENT.nodeSelector,
          tolerations: KWOK_PLACEMENT.tolerations,
          podAnnotations: podCompleteWithMessage(RUN_POD_MS, RUN_RESULT),
        },
      },
    },
  };
}

/** A CronJob on `schedule` whose Job's pod runs on kwok for {@link RUN_POD_MS}. */
export function cronJob(name: string, schedule: string): Record<string, unknown> {
  const template = kwokPodTemplate(
    {
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'main', image: 'scale.invalid/run:0' }],
      },
    },
    { completeAfterMs: RUN_POD_MS },
  );
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: SCALE_NAMESPACES.cronjob },
    spec: {
      schedule,
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
      jobTemplate: { spec: { backoffLimit: 0, template } },
    },
  };
}

/** Creates both namespaces and the Integrations' Secret. */
export async function createNamespaces(client: ClusterClient): Promise<void> {
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  for (const name of Object.values(SCALE_NAMESPACES))
    await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespacedSecret({
    namespace: SCALE_NAMESPACES.tributary,
    body: { metadata: { name: CREDENTIALS }, stringData: { apiKey: 'unused' } },
  });
}

/** Creates the N objects of one side, `concurrency` at a time. */
export async function createObjects(
  client: ClusterClient,
  side: 'tributary' | 'cronjob',
  shape: LoadShape,
  concurrency = 16,
): Promise<void> {
  const custom = client.kubeConfig.makeApiClient(CustomObjectsApi);
  const batch = client.kubeConfig.makeApiClient(BatchV1Api);
  const namespace = SCALE_NAMESPACES[side];
  const create = (i: number, schedule: string): Promise<unknown> =>
    side === 'tributary'
      ? createIntegration(custom, objectName(i), schedule)
      : batch.createNamespacedCronJob({
          namespace,
          body: cronJob(objectName(i), schedule) as never,
        });
  const all = schedules(shape);
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const i = next++;
      await create(i, all[i] ?? '');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Creates an Integration with a sync history: `status.lastScheduledTime` at its creation, as if
 * an operator had already run its first sync. Tributary syncs a new Integration at once whatever
 * its trigger (decide.ts), which the CronJob controller does not; without this, every object
 * would start a run (whose pod cannot reach kwok yet) and nothing would ever be quiet. The status
 * has no `observedGeneration`: the cold-start phase waits for the operator to write it.
 */
async function createIntegration(custom: CustomObjectsApi, name: string, schedule: string) {
  const target = {
    group: 'tributary.dev',
    version: 'v1alpha1',
    namespace: SCALE_NAMESPACES.tributary,
    plural: 'integrations',
  };
  const created = (await custom.createNamespacedCustomObject({
    ...target,
    body: integration(name, schedule),
  })) as { metadata: { creationTimestamp: string } };
  await custom.replaceNamespacedCustomObjectStatus({
    ...target,
    name,
    body: { ...created, status: { lastScheduledTime: created.metadata.creationTimestamp } },
  });
}

/**
 * Merge-patches the spec of object i on `side`: `cronjob` is the CronJob's spec, `tributary` the
 * Integration's `spec.overrides`, so each side is told the same thing in its own words.
 */
export function patchObject(
  client: ClusterClient,
  side: 'tributary' | 'cronjob',
  i: number,
  change: { cronjob: Record<string, unknown>; tributary: Record<string, unknown> },
): Promise<unknown> {
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const name = objectName(i);
  if (side === 'cronjob')
    return client.kubeConfig
      .makeApiClient(BatchV1Api)
      .patchNamespacedCronJob(
        { namespace: SCALE_NAMESPACES.cronjob, name, body: { spec: change.cronjob } },
        options,
      );
  return client.kubeConfig.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      group: 'tributary.dev',
      version: 'v1alpha1',
      namespace: SCALE_NAMESPACES.tributary,
      plural: 'integrations',
      name,
      body: { spec: { overrides: change.tributary } },
    },
    options,
  );
}
