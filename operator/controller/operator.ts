/**
 * `tributary operator`: wires informers, work queues, the Integration and ReconcilePolicy
 * controllers, leader election and the health/metrics server, and runs them until stopped.
 * Informers run on every replica (warm standby); controllers only on the leader.
 */
import { hostname } from 'node:os';
import type { KubeConfig, KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { GROUP, VERSION } from '../api/index.ts';
import { joinKey, objectKey } from '../lib/key.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { Controller } from './machinery/controller.ts';
import { Informer } from './machinery/informer.ts';
import { InformerSet, type Cache } from './machinery/informer-set.ts';
import { LeaderElector } from './machinery/leader.ts';
import { KubeLeaseStore } from './machinery/lease.ts';
import type { Log } from '../lib/log.ts';
import { ControllerMetrics } from './machinery/metrics.ts';
import { WorkQueue } from './machinery/queue.ts';
import { HealthServer } from './machinery/server.ts';
import { addIndexes, KubeIntegrationReads, KubeIntegrationWrites } from './integration/kube.ts';
import { IntegrationMetrics } from './integration/metrics.ts';
import { IntegrationReconciler } from './integration/reconciler.ts';
import { JobLabel } from './plan/job.ts';
import { PolicyReconciler } from './policy/reconciler.ts';
import { statusWriter } from './machinery/status-writer.ts';

/** Options of {@link runOperator}. */
export interface OperatorOptions {
  kubeConfig: KubeConfig;
  log: Log;
  /** Image of the built-in connector, used for sync Jobs: this operator's own image. */
  image: string;
  /** Watch these namespaces only. Default (undefined or empty): all namespaces. */
  namespaces?: readonly string[] | undefined;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. Default 8080. */
  metricsPort?: number;
  /** Run controllers only while holding the Lease. Default true. */
  leaderElection?: boolean;
  /** Namespace of the Lease. Required with leader election. */
  leaseNamespace?: string | undefined;
  /** Name of the Lease. Default `tributary-operator`. */
  leaseName?: string;
  /** This replica's identity in the Lease. Default: hostname + random suffix. */
  identity?: string | undefined;
  /** Concurrent Integration reconciles. Default 4. */
  workers?: number;
  clock?: Clock;
  /** Test-only fault injection (TRIBUTARY_FAULT_INJECTION): crash right after a Job is created. */
  faults?: { crashAfterJobCreate?: boolean };
}

const MANAGED = `${JobLabel.ManagedBy}=tributary`;

/** Runs the operator until `signal` aborts, then shuts down gracefully (releasing the Lease). */
export async function runOperator(options: OperatorOptions, signal: AbortSignal): Promise<void> {
  const { kubeConfig, log } = options;
  const clock = options.clock ?? systemClock();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tributary_process_' });
  const metrics = new ControllerMetrics({ registry });
  const namespaces = [...new Set(options.namespaces ?? [])];
  const informer = <T extends KubernetesObject>(path: string, labelSelector?: string) => {
    const watching = (namespace?: string) =>
      new Informer<T>({
        path,
        kubeConfig,
        log: log.child({ informer: path.split('/').at(-1), ...(namespace ? { namespace } : {}) }),
        clock,
        metrics,
        ...(namespace ? { namespace } : {}),
        ...(labelSelector ? { labelSelector } : {}),
      });
    if (namespaces.length === 0) return watching();
    if (namespaces.length === 1) return watching(namespaces[0]);
    return new InformerSet<T>(new Map(namespaces.map((ns) => [ns, watching(ns)])));
  };
  const caches = {
    integrations: informer<KubernetesObject>(`/apis/${GROUP}/${VERSION}/integrations`),
    policies: informer<KubernetesObject>(`/apis/${GROUP}/${VERSION}/reconcilepolicies`),
    jobs: informer<V1Job>('/apis/batch/v1/jobs', MANAGED),
    pods: informer<V1Pod>('/api/v1/pods', MANAGED),
  };
  addIndexes(caches);
  const queues = {
    integrations: new WorkQueue({
      name: 'integrations',
      clock,
      ...metrics.queueHooks('integrations'),
    }),
    policies: new WorkQueue({
      name: 'reconcilepolicies',
      clock,
      ...metrics.queueHooks('reconcilepolicies'),
    }),
  };
  wireEvents(caches, queues);

  const integrationController = new Controller({
    name: 'integration',
    queue: queues.integrations,
    log,
    clock,
    metrics,
    workers: options.workers ?? 4,
    reconciler: new IntegrationReconciler({
      reads: new KubeIntegrationReads(caches, kubeConfig),
      writes: withFaults(new KubeIntegrationWrites(kubeConfig, log), options.faults, log),
      clock,
      log,
      operatorImage: options.image,
      metrics: new IntegrationMetrics(registry),
    }),
  });
  const policyController = new Controller({
    name: 'reconcilepolicy',
    queue: queues.policies,
    log,
    clock,
    metrics,
    workers: 1,
    reconciler: new PolicyReconciler(
      {
        policy: (namespace, name) => caches.policies.get(namespace, name),
        usedBy: (namespace, name) =>
          caches.integrations.byIndex(BY_POLICY, joinKey(namespace, name)).length,
        updateStatus: statusWriter(kubeConfig, 'ReconcilePolicy', 'reconcilepolicies'),
      },
      clock,
    ),
  });

  const server = new HealthServer({ registry, port: options.metricsPort ?? 8080 });
  for (const [name, cache] of Object.entries(caches)) {
    server.addReadinessCheck(`informer/${name}`, () => cache.hasSynced() && cache.isHealthy());
  }
  await server.start();
  log.info(
    { port: server.port, namespaces: namespaces.length > 0 ? namespaces : '(all)' },
    'operator starting',
  );

  const informersDone = Object.values(caches).map((cache) => cache.start(signal));
  const runControllers = async (leading: AbortSignal) => {
    await Promise.all(Object.values(caches).map((cache) => cache.waitForSync()));
    log.info('caches synced; controllers starting');
    for (const object of caches.integrations.list()) queues.integrations.add(objectKey(object));
    for (const object of caches.policies.list()) queues.policies.add(objectKey(object));
    await Promise.all([integrationController.start(leading), policyController.start(leading)]);
  };

  try {
    if (options.leaderElection === false) {
      // The only replica leads: tributary_leader says so, or the no-leader alert would fire.
      metrics.setLeader(true);
      await runControllers(signal);
    } else {
      await lead(options, clock, log, metrics, runControllers, signal);
    }
  } finally {
    await Promise.all(Object.values(caches).map((cache) => cache.stop()));
    await Promise.allSettled(informersDone);
    await server.stop();
    log.info('operator stopped');
  }
}

async function lead(
  options: OperatorOptions,
  clock: Clock,
  log: Log,
  metrics: ControllerMetrics,
  run: (signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  if (!options.leaseNamespace)
    throw new Error('leader election needs a lease namespace (--lease-namespace)');
  const elector = new LeaderElector({
    store: new KubeLeaseStore({
      kubeConfig: options.kubeConfig,
      namespace: options.leaseNamespace,
      name: options.leaseName ?? 'tributary-operator',
    }),
    clock,
    log,
    metrics,
    identity: options.identity ?? `${hostname()}_${Math.random().toString(16).slice(2, 8)}`,
    onStartedLeading: (leading) => {
      log.info('became leader');
      return run(leading);
    },
    onStoppedLeading: () => {
      log.info('stopped leading');
    },
  });
  await elector.start(signal);
  if (!signal.aborted) {
    // Leadership was lost while we still wanted it: exit so a restart campaigns afresh.
    throw new Error('leader election lost');
  }
}

/** Index of Integrations by `namespace/policyName`. */
const BY_POLICY = 'policy';
/** Index of Integrations by uid. */
const BY_UID = 'uid';

function wireEvents(
  caches: {
    integrations: Cache<KubernetesObject>;
    policies: Cache<KubernetesObject>;
    jobs: Cache<V1Job>;
    pods: Cache<V1Pod>;
  },
  queues: { integrations: WorkQueue; policies: WorkQueue },
): void {
  const policyOf = (object: KubernetesObject) => {
    const ref = (object as { spec?: { policyRef?: { name?: string } } }).spec?.policyRef?.name;
    return ref === undefined ? [] : [joinKey(object.metadata?.namespace, ref)];
  };
  caches.integrations.addIndex(BY_POLICY, policyOf);
  caches.integrations.addIndex(BY_UID, (object) =>
    object.metadata?.uid ? [object.metadata.uid] : [],
  );

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

  const policyChanged = (object: KubernetesObject) => {
    const key = objectKey(object);
    queues.policies.add(key);
    for (const integration of caches.integrations.byIndex(BY_POLICY, key)) {
      queues.integrations.add(objectKey(integration));
    }
  };
  caches.policies.addHandlers({
    onAdd: policyChanged,
    onUpdate: (_, o) => {
      policyChanged(o);
    },
    onDelete: policyChanged,
  });

  const runChanged = (object: V1Job | V1Pod) => {
    const uid = object.metadata?.labels?.[JobLabel.IntegrationUID];
    if (uid === undefined) return;
    for (const integration of caches.integrations.byIndex(BY_UID, uid)) {
      queues.integrations.add(objectKey(integration));
    }
  };
  for (const cache of [caches.jobs, caches.pods] as Cache<V1Job | V1Pod>[]) {
    cache.addHandlers({
      onAdd: runChanged,
      onUpdate: (_, o) => {
        runChanged(o);
      },
      onDelete: runChanged,
    });
  }
}

/**
 * Fault injection for crash tests: dies with SIGKILL right after a Job was created and before
 * status could be written, the window the deterministic Job name protects.
 */
function withFaults(
  writes: KubeIntegrationWrites,
  faults: OperatorOptions['faults'],
  log: Log,
): KubeIntegrationWrites {
  if (faults?.crashAfterJobCreate !== true) return writes;
  const createJob = writes.createJob.bind(writes);
  writes.createJob = async (job) => {
    const outcome = await createJob(job);
    if (outcome === 'created') {
      log.warn({ job: job.metadata?.name }, 'fault injection: crashing after Job creation');
      log.flush();
      process.kill(process.pid, 'SIGKILL');
    }
    return outcome;
  };
  return writes;
}
