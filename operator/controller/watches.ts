/**
 * What the operator watches and how a change becomes a key: the four caches (one informer per
 * watched namespace), every index the controllers read by, and the event → key mapping that
 * feeds the work queues. Handlers only enqueue keys; reconcilers re-read the caches.
 */
import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/index.ts';
import type { Clock } from '../lib/clock.ts';
import { joinKey, objectKey } from '../lib/key.ts';
import type { Log } from '../lib/log.ts';
import type { ApiTransport } from '../lib/kube/api.ts';
import { stripServerFields, trimRunJob, trimRunPod } from './machinery/cache-transform.ts';
import { Informer, type InformerHandlers } from './machinery/informer.ts';
import { type Cache, InformerSet } from './machinery/informer-set.ts';
import type { ControllerMetrics } from './machinery/metrics.ts';
import type { WorkQueue } from './machinery/queue.ts';
import { JobLabel } from './plan/job.ts';

/** Index of Integrations by `namespace/policyName`. */
export const BY_POLICY = 'policy';
/** Index of Integrations by uid. */
export const BY_UID = 'uid';
/** Index of run Jobs by the uid of their Integration. */
export const BY_INTEGRATION_UID = 'integration-uid';
/** Index of run pods by `namespace/job-name`. */
export const BY_JOB = 'job';

/** The caches the controllers read from (a type alias, so `Object.values` sees its members). */
export type Caches = {
  integrations: Cache<KubernetesObject>;
  policies: Cache<KubernetesObject>;
  jobs: Cache<V1Job>;
  pods: Cache<V1Pod>;
};

/** The queues a change is enqueued on. */
export interface Queues {
  integrations: WorkQueue;
  policies: WorkQueue;
}

/** Options of {@link watchCaches}. */
export interface WatchOptions {
  /** The authenticated API transport the informers list and watch through. Required. */
  api: ApiTransport;
  /** Logger; each informer gets a child with its resource and namespace. Required. */
  log: Log;
  /** Time source of the informers. Required. */
  clock: Clock;
  /** Metrics sink. Default: none. */
  metrics?: ControllerMetrics;
  /** Watch these namespaces only. Default (empty): all namespaces. */
  namespaces?: readonly string[];
}

/** Only the Jobs and pods this operator made are cached. */
const MANAGED = `${JobLabel.ManagedBy}=tributary`;

/** Makes the four caches, indexed; nothing is listed until they start. */
export function watchCaches(options: WatchOptions): Caches {
  const cache = <T extends KubernetesObject>(
    path: string,
    transform: (object: T) => T,
    labelSelector?: string,
  ) => namespacedCache<T>(options, { path, transform, labelSelector });
  const caches: Caches = {
    integrations: cache(`/apis/${GROUP}/${VERSION}/integrations`, stripServerFields),
    policies: cache(`/apis/${GROUP}/${VERSION}/reconcilepolicies`, stripServerFields),
    jobs: cache<V1Job>('/apis/batch/v1/jobs', trimRunJob, MANAGED),
    pods: cache<V1Pod>('/api/v1/pods', trimRunPod, MANAGED),
  };
  addIndexes(caches);
  return caches;
}

/** One informer, or one per namespace behind an {@link InformerSet}. */
function namespacedCache<T extends KubernetesObject>(
  options: WatchOptions,
  what: { path: string; transform: (object: T) => T; labelSelector: string | undefined },
): Cache<T> {
  const { path, transform, labelSelector } = what;
  const namespaces = [...new Set(options.namespaces ?? [])];
  const watching = (namespace?: string) =>
    new Informer<T>({
      path,
      api: options.api,
      log: options.log.child({
        informer: path.split('/').at(-1),
        ...(namespace ? { namespace } : {}),
      }),
      clock: options.clock,
      transform,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(namespace ? { namespace } : {}),
      ...(labelSelector ? { labelSelector } : {}),
    });
  if (namespaces.length === 0) return watching();
  if (namespaces.length === 1) return watching(namespaces[0]);
  return new InformerSet<T>(new Map(namespaces.map((ns) => [ns, watching(ns)])));
}

/** Adds every index the controllers read by. Call before the caches start. */
export function addIndexes(caches: Caches): void {
  caches.integrations.addIndex(BY_POLICY, policyOf);
  caches.integrations.addIndex(BY_UID, (object) =>
    object.metadata?.uid ? [object.metadata.uid] : [],
  );
  caches.jobs.addIndex(BY_INTEGRATION_UID, (job) => {
    const uid = job.metadata?.labels?.[JobLabel.IntegrationUID];
    return uid === undefined ? [] : [uid];
  });
  caches.pods.addIndex(BY_JOB, (pod) => {
    const job = pod.metadata?.labels?.['job-name'];
    return job === undefined ? [] : [joinKey(pod.metadata?.namespace, job)];
  });
}

/** How many cached Integrations reference the policy `namespace/name`. */
export function integrationsUsing(caches: Caches, namespace: string, name: string): number {
  return caches.integrations.byIndex(BY_POLICY, joinKey(namespace, name)).length;
}

/**
 * Maps changes to keys: an Integration enqueues itself and its policy (whose status counts
 * users); a policy enqueues itself and its Integrations; a run Job or pod its Integration.
 */
export function enqueueOnChange(caches: Caches, queues: Queues): void {
  const integrationChanged = (object: KubernetesObject) => {
    queues.integrations.add(objectKey(object));
    for (const policy of policyOf(object)) queues.policies.add(policy);
  };
  caches.integrations.addHandlers({
    onAdd: integrationChanged,
    onUpdate: (old, object) => {
      integrationChanged(old);
      integrationChanged(object);
    },
    onDelete: integrationChanged,
  });
  caches.policies.addHandlers(
    onEveryChange((object) => {
      const key = objectKey(object);
      queues.policies.add(key);
      for (const integration of caches.integrations.byIndex(BY_POLICY, key))
        queues.integrations.add(objectKey(integration));
    }),
  );
  const runChanged = onEveryChange((object: V1Job | V1Pod) => {
    const uid = object.metadata?.labels?.[JobLabel.IntegrationUID];
    if (uid === undefined) return;
    for (const integration of caches.integrations.byIndex(BY_UID, uid))
      queues.integrations.add(objectKey(integration));
  });
  caches.jobs.addHandlers(runChanged);
  caches.pods.addHandlers(runChanged);
}

/** Handlers calling `changed` with the new object of an add or update, or the deleted one. */
function onEveryChange<T>(changed: (object: T) => void): InformerHandlers<T> {
  return {
    onAdd: changed,
    onUpdate: (_old, object) => {
      changed(object);
    },
    onDelete: changed,
  };
}

/** The policy key an Integration references, if any. */
function policyOf(object: KubernetesObject): string[] {
  const ref = (object as { spec?: { policyRef?: { name?: string } } }).spec?.policyRef?.name;
  return ref === undefined ? [] : [joinKey(object.metadata?.namespace, ref)];
}
