/**
 * `tributary operator`: wires the caches (watches.ts), work queues, the Integration and
 * ReconcilePolicy controllers, leader election and the health/metrics server, and runs them until
 * stopped. Informers run on every replica (warm standby); controllers only on the leader.
 */
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { objectKey } from '../lib/key.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { Log } from '../lib/log.ts';
import { KubeApi, type ApiTransport } from '../lib/kube/api.ts';
import { Controller } from './machinery/controller.ts';
import { LeaderElector } from './machinery/leader.ts';
import { KubeLeaseStore } from './machinery/lease.ts';
import { ControllerMetrics } from './machinery/metrics.ts';
import { WorkQueue } from './machinery/queue.ts';
import { HealthServer } from '../lib/health-server.ts';
import { statusWriter } from './machinery/status-writer.ts';
import { CrashAfterJobCreate } from './integration/faults.ts';
import { KubeIntegrationReads, KubeIntegrationWrites } from './integration/kube.ts';
import { IntegrationMetrics } from './integration/metrics.ts';
import { IntegrationReconciler } from './integration/reconciler.ts';
import type { IntegrationWrites } from './integration/ports.ts';
import { PolicyReconciler } from './policy/reconciler.ts';
import { IntakeStatsPoller } from './intake-stats.ts';
import {
  type Caches,
  enqueueOnChange,
  integrationsUsing,
  type Queues,
  watchCaches,
} from './watches.ts';

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
  /**
   * Base URLs of the webhook intake's replicas (out-of-cluster runs). Default: the ready intake
   * pods in `leaseNamespace`, found by label.
   */
  intakeURLs?: readonly string[] | undefined;
  /** How late a webhook delivery may be before a sync counts its change as missed. Default 2m. */
  webhookGrace?: string | undefined;
  /** Test-only fault injection (TRIBUTARY_FAULT_INJECTION): crash right after a Job is created. */
  faults?: { crashAfterJobCreate?: boolean };
}

/** Runs the operator until `signal` aborts, then shuts down gracefully (releasing the Lease). */
export async function runOperator(given: OperatorOptions, signal: AbortSignal): Promise<void> {
  // One identity for the Lease and the Events' reportingInstance.
  const options = { ...given, identity: given.identity ?? defaultIdentity() };
  const { log } = options;
  const clock = options.clock ?? systemClock();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tributary_process_' });
  const metrics = new ControllerMetrics({ registry });
  const api = new KubeApi({ kubeConfig: options.kubeConfig });
  const namespaces = options.namespaces ?? [];
  const caches = watchCaches({ api, log, clock, metrics, namespaces });
  const queue = (name: string) => new WorkQueue({ name, clock, ...metrics.queueHooks(name) });
  const queues: Queues = {
    integrations: queue('integrations'),
    policies: queue('reconcilepolicies'),
  };
  enqueueOnChange(caches, queues);
  const intake = new IntakeStatsPoller({
    api,
    clock,
    log,
    namespace: options.leaseNamespace,
    urls: options.intakeURLs,
    onChange: (keys) => {
      for (const key of keys) queues.integrations.add(key);
    },
  });
  const wiring = { api, caches, queues, clock, metrics, registry, intake };
  const controllers = makeControllers(options, wiring);
  const server = await startHealthServer(registry, caches, options.metricsPort ?? 8080);
  const watched = namespaces.length > 0 ? namespaces : '(all)';
  log.info({ port: server.port, namespaces: watched }, 'operator starting');
  const informersDone = Object.values(caches).map((cache) => cache.start(signal));
  const intakePolled = intake.run(signal);
  try {
    await runLeading(options, { api, clock, metrics, signal }, async (leading) => {
      await startControllers(caches, queues, controllers, log, leading);
    });
  } finally {
    await Promise.all(Object.values(caches).map((cache) => cache.stop()));
    await Promise.allSettled([...informersDone, intakePolled]);
    await server.stop();
    log.info('operator stopped');
  }
}

/** Serves /healthz, /metrics and /readyz, ready while every cache is synced and healthy. */
async function startHealthServer(
  registry: Registry,
  caches: Caches,
  port: number,
): Promise<HealthServer> {
  const server = new HealthServer({ registry, port });
  for (const [name, cache] of Object.entries(caches))
    server.addReadinessCheck(`informer/${name}`, () => cache.hasSynced() && cache.isHealthy());
  await server.start();
  return server;
}

/** What the controllers are built from. */
interface Wiring {
  api: ApiTransport;
  caches: Caches;
  queues: Queues;
  clock: Clock;
  metrics: ControllerMetrics;
  registry: Registry;
  intake: IntakeStatsPoller;
}

/** The Integration and ReconcilePolicy controllers; nothing runs until they start. */
function makeControllers(options: OperatorOptions, wiring: Wiring): Controller[] {
  const { api, caches, queues, clock, metrics, registry, intake } = wiring;
  const { log } = options;
  const kubeWrites = new KubeIntegrationWrites({
    api,
    clock,
    reportingInstance: options.identity ?? defaultIdentity(),
    onEventWriteFailure: (reason) => {
      metrics.eventWriteFailed(reason);
    },
  });
  const writes: IntegrationWrites =
    options.faults?.crashAfterJobCreate === true ? new CrashAfterJobCreate(kubeWrites) : kubeWrites;
  const integrations = new IntegrationReconciler({
    reads: new KubeIntegrationReads(caches, { api, intake }),
    writes,
    clock,
    log,
    operatorImage: options.image,
    metrics: new IntegrationMetrics(registry),
    webhookGrace: options.webhookGrace,
  });
  const policies = new PolicyReconciler(
    {
      policy: (namespace, name) => caches.policies.get(namespace, name),
      usedBy: (namespace, name) => integrationsUsing(caches, namespace, name),
      updateStatus: statusWriter(api, 'ReconcilePolicy', 'reconcilepolicies'),
    },
    clock,
  );
  const common = { log, clock, metrics };
  return [
    new Controller({
      ...common,
      name: 'integration',
      queue: queues.integrations,
      workers: options.workers ?? 4,
      reconciler: integrations,
    }),
    new Controller({
      ...common,
      name: 'reconcilepolicy',
      queue: queues.policies,
      workers: 1,
      reconciler: policies,
    }),
  ];
}

/** Once the caches synced: enqueues every cached object, then runs the controllers until `leading` aborts. */
async function startControllers(
  caches: Caches,
  queues: Queues,
  controllers: Controller[],
  log: Log,
  leading: AbortSignal,
): Promise<void> {
  await Promise.all(Object.values(caches).map((cache) => cache.waitForSync()));
  log.info('caches synced; controllers starting');
  for (const object of caches.integrations.list()) queues.integrations.add(objectKey(object));
  for (const object of caches.policies.list()) queues.policies.add(objectKey(object));
  await Promise.all(controllers.map((controller) => controller.start(leading)));
}

/** Runs `run` while this replica leads (always, without leader election). */
async function runLeading(
  options: OperatorOptions,
  context: { api: ApiTransport; clock: Clock; metrics: ControllerMetrics; signal: AbortSignal },
  run: (leading: AbortSignal) => Promise<void>,
): Promise<void> {
  if (options.leaderElection === false) {
    // The only replica leads: tributary_leader says so, or the no-leader alert would fire.
    context.metrics.setLeader(true);
    await run(context.signal);
    return;
  }
  await lead(options, context, run);
}

/** Campaigns for the Lease and runs `run` while leading; throws when leadership is lost. */
async function lead(
  options: OperatorOptions,
  context: { api: ApiTransport; clock: Clock; metrics: ControllerMetrics; signal: AbortSignal },
  run: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const { api, clock, metrics, signal } = context;
  const { log } = options;
  if (!options.leaseNamespace)
    throw new Error('leader election needs a lease namespace (--lease-namespace)');
  const elector = new LeaderElector({
    store: new KubeLeaseStore({
      api,
      namespace: options.leaseNamespace,
      name: options.leaseName ?? 'tributary-operator',
    }),
    clock,
    log,
    metrics,
    identity: options.identity ?? defaultIdentity(),
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

/** This replica's identity when none is given: the hostname plus a random suffix. */
function defaultIdentity(): string {
  return `${hostname()}_${Math.random().toString(16).slice(2, 8)}`;
}
