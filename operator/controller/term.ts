/**
 * A leadership term: what runs while this replica leads — fresh work queues and the Integration
 * and ReconcilePolicy controllers on a lease-fenced API — built when the term begins and drained
 * when it ends, so a replica that loses the lease and wins it back starts clean (no timers, no
 * half-done keys from the old term) without restarting the process.
 */
import type { Clock } from '../lib/clock.ts';
import { objectKey } from '../lib/key.ts';
import type { Log } from '../lib/log.ts';
import type { ApiTransport } from '../lib/kube/api.ts';
import { Controller } from './machinery/controller.ts';
import type { ControllerMetrics } from './machinery/metrics.ts';
import { WorkQueue } from './machinery/queue.ts';
import { statusWriter } from './machinery/status-writer.ts';
import { CrashPoints, type FaultSettings } from './integration/faults.ts';
import { KubeIntegrationReads, KubeIntegrationWrites } from './integration/kube.ts';
import type { IntegrationMetrics } from './integration/metrics.ts';
import { IntegrationReconciler } from './integration/reconciler.ts';
import type { IntegrationWrites } from './integration/ports.ts';
import { PolicyReconciler } from './policy/reconciler.ts';
import type { IntakeStatsPoller } from './intake-stats.ts';
import { type Caches, integrationsUsing, type Queues } from './watches.ts';

/**
 * The queues the informers' handlers feed: those of the current term. Between terms the last
 * term's queues are shut down and ignore adds; a new term enqueues every cached object anyway.
 */
export class TermQueues implements Queues {
  readonly #make: (name: string) => WorkQueue;
  #current: Queues;
  #used = false;

  /** `make` builds one queue by name (with its metric hooks). */
  constructor(make: (name: string) => WorkQueue) {
    this.#make = make;
    this.#current = this.#fresh();
  }

  get integrations(): WorkQueue {
    return this.#current.integrations;
  }

  get policies(): WorkQueue {
    return this.#current.policies;
  }

  /** The queues of a new term: the first term takes the initial ones, later terms fresh ones. */
  begin(): Queues {
    if (this.#used) this.#current = this.#fresh();
    this.#used = true;
    return this.#current;
  }

  #fresh(): Queues {
    // Named as their controllers, as controller-runtime names a controller's queue.
    return { integrations: this.#make('integration'), policies: this.#make('reconcilepolicy') };
  }

  /** A queue factory with `metrics`' hooks; `metrics` reads each new queue's work in flight. */
  static factory(clock: Clock, metrics: ControllerMetrics): (name: string) => WorkQueue {
    return (name) =>
      metrics.watchQueue(new WorkQueue({ name, clock, ...metrics.queueHooks(name) }));
  }
}

/** What a term is built from; `api` is the fenced transport of the term. */
export interface TermWiring {
  api: ApiTransport;
  caches: Caches;
  queues: Queues;
  clock: Clock;
  log: Log;
  metrics: ControllerMetrics;
  integrationMetrics: IntegrationMetrics;
  intake: IntakeStatsPoller;
}

/** The settings of the operator a term needs. */
export interface TermSettings {
  image: string;
  identity: string;
  workers?: number | undefined;
  webhookGrace?: string | undefined;
  faults?: FaultSettings | undefined;
}

/** Runs a term: once the caches synced, enqueues every cached object and runs the controllers until `leading` aborts. */
export async function runTerm(
  settings: TermSettings,
  wiring: TermWiring,
  leading: AbortSignal,
): Promise<void> {
  const { caches, queues, log } = wiring;
  const controllers = makeControllers(settings, wiring);
  await Promise.all(Object.values(caches).map((cache) => cache.waitForSync()));
  log.info('caches synced; controllers starting');
  for (const object of caches.integrations.list()) queues.integrations.add(objectKey(object));
  for (const object of caches.policies.list()) queues.policies.add(objectKey(object));
  await Promise.all(controllers.map((controller) => controller.start(leading)));
}

/** The Integration and ReconcilePolicy controllers of a term; nothing runs until they start. */
function makeControllers(settings: TermSettings, wiring: TermWiring): Controller[] {
  const { api, caches, queues, clock, log, metrics, intake } = wiring;
  const integrations = new IntegrationReconciler({
    reads: new KubeIntegrationReads(caches, { api, intake }),
    writes: integrationWrites(settings, wiring),
    clock,
    log,
    operatorImage: settings.image,
    metrics: wiring.integrationMetrics,
    webhookGrace: settings.webhookGrace,
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
      workers: settings.workers ?? 4,
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

function integrationWrites(settings: TermSettings, wiring: TermWiring): IntegrationWrites {
  const { api, clock, metrics } = wiring;
  const writes = new KubeIntegrationWrites({
    api,
    clock,
    reportingInstance: settings.identity,
    onEventWriteFailure: (reason) => {
      metrics.eventWriteFailed(reason);
    },
  });
  const faults = settings.faults;
  return faults !== undefined && faults.points.length > 0
    ? new CrashPoints(writes, faults)
    : writes;
}
