/**
 * The operator's Prometheus metrics, registered on an injected prom-client Registry (never the
 * global default), with small methods the queue, controller, informer and elector call.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueueHooks } from './queue.ts';

/** How a reconcile ended: returned, returned with requeueAfter, threw (retried), threw terminal. */
export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal';

/** Options of {@link ControllerMetrics}. */
export interface ControllerMetricsOptions {
  /** Registry to register on. Required; each test or process owns its own. */
  registry: Registry;
}

/** Every metric of the controller machinery. */
export class ControllerMetrics {
  /** The registry these metrics live in. */
  readonly registry: Registry;
  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileDuration: Histogram<'controller' | 'result'>;
  readonly #queueDepth: Gauge<'name'>;
  readonly #queueWait: Histogram<'name'>;
  readonly #queueRetries: Counter<'name'>;
  readonly #watchErrors: Counter<'resource'>;
  readonly #watchRelists: Counter<'resource'>;
  readonly #watchResumes: Counter<'resource'>;
  readonly #leader: Gauge;
  readonly #leaderLost: Counter;
  readonly #apiOutages: Counter;
  readonly #eventWriteFailures: Counter<'reason'>;

  /** Registers the metric families (declarations only; no I/O). */
  constructor(options: ControllerMetricsOptions) {
    this.registry = options.registry;
    const registers = [options.registry];
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    this.#reconcileTotal = new Counter({
      name: 'tributary_reconcile_total',
      help: 'Reconciles by controller and result.',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.#reconcileDuration = new Histogram({
      name: 'tributary_reconcile_duration_seconds',
      help: 'Reconcile duration in seconds.',
      labelNames: ['controller', 'result'],
      buckets,
      registers,
    });
    this.#queueDepth = new Gauge({
      name: 'tributary_workqueue_depth',
      help: 'Keys ready in the work queue.',
      labelNames: ['name'],
      registers,
    });
    this.#queueWait = new Histogram({
      name: 'tributary_workqueue_wait_seconds',
      help: 'Seconds a key waited in the queue before being processed.',
      labelNames: ['name'],
      buckets,
      registers,
    });
    this.#queueRetries = new Counter({
      name: 'tributary_workqueue_retries_total',
      help: 'Rate-limited requeues (retries).',
      labelNames: ['name'],
      registers,
    });
    const watch = watchCounters(registers);
    this.#watchErrors = watch.errors;
    this.#watchRelists = watch.relists;
    this.#watchResumes = watch.resumes;
    [this.#leader, this.#leaderLost] = leaderMetrics(registers);
    this.#apiOutages = new Counter({
      name: 'tributary_apiserver_outages_total',
      help: 'Times the API server went unanswered long enough for /readyz to fail.',
      registers,
    });
    this.#eventWriteFailures = new Counter({
      name: 'tributary_event_write_failures_total',
      help: 'Events the API server did not take (create or patch failed), by the Event reason; the reconcile goes on.',
      labelNames: ['reason'],
      registers,
    });
  }

  /** Records one finished reconcile of `controller` that took `seconds`. */
  reconcileFinished(controller: string, result: ReconcileOutcome, seconds: number): void {
    this.#reconcileTotal.inc({ controller, result });
    this.#reconcileDuration.observe({ controller, result }, seconds);
  }

  /** Hooks that feed depth, wait time and retries of the queue called `name`. */
  queueHooks(name: string): Required<WorkQueueHooks> {
    return {
      onDepth: (depth) => {
        this.#queueDepth.set({ name }, depth);
      },
      onDequeue: (_key, waitedMs) => {
        this.#queueWait.observe({ name }, waitedMs / 1000);
      },
      onRetry: () => {
        this.#queueRetries.inc({ name });
      },
    };
  }

  /** Counts a list or watch error of `resource`. */
  watchError(resource: string): void {
    this.#watchErrors.inc({ resource });
  }

  /** Counts a full list of `resource`. */
  watchRelist(resource: string): void {
    this.#watchRelists.inc({ resource });
  }

  /** Counts a watch the server ended cleanly, resumed without a relist. */
  watchResumed(resource: string): void {
    this.#watchResumes.inc({ resource });
  }

  /** Counts an Event that could not be written, by its reason. */
  eventWriteFailed(reason: string): void {
    this.#eventWriteFailures.inc({ reason });
  }

  /** Counts a lost leadership (a renew deadline missed while leading). */
  leadershipLost(): void {
    this.#leaderLost.inc();
  }

  /** Counts an API server outage (calls unanswered past the readiness threshold). */
  apiServerOutage(): void {
    this.#apiOutages.inc();
  }

  /** Sets the leader gauge. */
  setLeader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
  }
}

function leaderMetrics(registers: Registry[]): [Gauge, Counter] {
  const leader = new Gauge({
    name: 'tributary_leader',
    help: '1 while this replica holds the leader lease.',
    registers,
  });
  const lost = new Counter({
    name: 'tributary_leader_lost_total',
    help: 'Leaderships lost: the lease could not be renewed in time; the replica campaigns again.',
    registers,
  });
  return [leader, lost];
}

/** The list-watch counters by resource: errors, relists, resumes. */
function watchCounters(registers: Registry[]) {
  return {
    errors: new Counter({
      name: 'tributary_watch_errors_total',
      help: 'List or watch errors by resource.',
      labelNames: ['resource'],
      registers,
    }),
    relists: new Counter({
      name: 'tributary_watch_relists_total',
      help: 'Full relists by resource (initial list included).',
      labelNames: ['resource'],
      registers,
    }),
    resumes: new Counter({
      name: 'tributary_watch_resumes_total',
      help: 'Watches the server ended cleanly (its timeout) and that were resumed from the last resourceVersion, by resource.',
      labelNames: ['resource'],
      registers,
    }),
  };
}
