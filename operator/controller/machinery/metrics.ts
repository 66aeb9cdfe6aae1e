/**
 * The operator's Prometheus metrics, registered on an injected prom-client Registry (never the
 * global default), with small methods the queue, controller, informer and elector call. The work
 * queues' and the API client's series carry the names, labels and buckets of controller-runtime
 * and client-go (`workqueue_*`, `rest_client_rate_limiter_duration_seconds`), so dashboards made
 * for Go operators read Tributary unchanged.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { UnfinishedWork, WorkQueueHooks } from './queue.ts';

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
  readonly #queue: WorkQueueMetrics;
  readonly #rateLimiterWait: Histogram<'verb' | 'host'>;
  readonly #watchErrors: Counter<'resource'>;
  readonly #watchRelists: Counter<'resource'>;
  readonly #watchResumes: Counter<'resource'>;
  readonly #leader: Gauge;
  readonly #leaderLost: Counter;
  readonly #apiOutages: Counter;
  readonly #eventWriteFailures: Counter<'reason'>;
  readonly #statusConflicts: Counter<'controller'>;

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
    this.#queue = new WorkQueueMetrics(registers);
    this.#rateLimiterWait = new Histogram({
      name: 'rest_client_rate_limiter_duration_seconds',
      help: 'Client side rate limiter latency in seconds. Broken down by verb, and host.',
      labelNames: ['verb', 'host'],
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
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
    this.#statusConflicts = new Counter({
      name: 'tributary_status_conflicts_total',
      help: 'Reconciles whose write met a newer object (409 Conflict) and were retried, by controller.',
      labelNames: ['controller'],
      registers,
    });
  }

  /** Records one finished reconcile of `controller` that took `seconds`. */
  reconcileFinished(controller: string, result: ReconcileOutcome, seconds: number): void {
    this.#reconcileTotal.inc({ controller, result });
    this.#reconcileDuration.observe({ controller, result }, seconds);
  }

  /** Hooks that feed the `workqueue_*` series of the queue called `name` (its controller's name). */
  queueHooks(name: string): Required<WorkQueueHooks> {
    return this.#queue.hooks(name);
  }

  /**
   * Reads the work in flight of `queue` at each scrape (`workqueue_unfinished_work_seconds`,
   * `workqueue_longest_running_processor_seconds`); a later queue of the same name replaces it.
   */
  watchQueue<Q extends QueueInFlight>(queue: Q): Q {
    this.#queue.watch(queue);
    return queue;
  }

  /** Records one wait of an API call for the client request budget (client-go's labels). */
  rateLimiterWait(verb: string, host: string, seconds: number): void {
    this.#rateLimiterWait.observe({ verb, host }, seconds);
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

  /** Records a reconcile of `controller` retried after a 409 Conflict on a write. */
  statusConflict(controller: string): void {
    this.#statusConflicts.inc({ controller });
  }

  /** Sets the leader gauge. */
  setLeader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
  }
}

/** What {@link ControllerMetrics.watchQueue} reads of a queue. */
export interface QueueInFlight {
  /** The queue's name: the `name` and `controller` labels. */
  readonly name: string;
  /** The work in flight now. */
  unfinishedWork(): UnfinishedWork;
}

/** controller-runtime's buckets of the queue histograms: 10 ns to 1,000 s, ×10 each. */
const WORKQUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];

/**
 * The `workqueue_*` series of controller-runtime's pkg/metrics/workqueue.go: labels `name` and
 * `controller`, both the controller's name; the in-flight gauges are read at scrape time instead
 * of client-go's 500 ms ticker.
 */
class WorkQueueMetrics {
  readonly #depth: Gauge<'name' | 'controller'>;
  readonly #adds: Counter<'name' | 'controller'>;
  readonly #queueDuration: Histogram<'name' | 'controller'>;
  readonly #workDuration: Histogram<'name' | 'controller'>;
  readonly #retries: Counter<'name' | 'controller'>;
  readonly #queues = new Map<string, QueueInFlight>();

  constructor(registers: Registry[]) {
    const labelNames = ['name', 'controller'] as const;
    const common = { labelNames, registers };
    this.#depth = new Gauge({
      ...common,
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
    });
    this.#adds = new Counter({
      ...common,
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
    });
    this.#queueDuration = new Histogram({
      ...common,
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      buckets: WORKQUEUE_BUCKETS,
    });
    this.#workDuration = new Histogram({
      ...common,
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      buckets: WORKQUEUE_BUCKETS,
    });
    this.#retries = new Counter({
      ...common,
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
    });
    this.#inFlightGauges(common);
  }

  hooks(name: string): Required<WorkQueueHooks> {
    const labels = { name, controller: name };
    return {
      onAdd: () => {
        this.#adds.inc(labels);
      },
      onDepth: (depth) => {
        this.#depth.set(labels, depth);
      },
      onDequeue: (_key, waitedMs) => {
        this.#queueDuration.observe(labels, waitedMs / 1000);
      },
      onDone: (_key, workedMs) => {
        this.#workDuration.observe(labels, workedMs / 1000);
      },
      onRetry: () => {
        this.#retries.inc(labels);
      },
    };
  }

  watch(queue: QueueInFlight): void {
    this.#queues.set(queue.name, queue);
  }

  /** The two gauges of the work in flight, set from the watched queues at each scrape. */
  #inFlightGauges(common: { labelNames: readonly ['name', 'controller']; registers: Registry[] }) {
    const queues = this.#queues;
    const read = (gauge: Gauge<'name' | 'controller'>, pick: (work: UnfinishedWork) => number) => {
      for (const queue of queues.values())
        gauge.set(
          { name: queue.name, controller: queue.name },
          pick(queue.unfinishedWork()) / 1000,
        );
    };
    new Gauge({
      ...common,
      name: 'workqueue_unfinished_work_seconds',
      help:
        'How many seconds of work has been done that is in progress and has not been observed by ' +
        'work_duration. Large values indicate stuck threads. One can deduce the number of stuck ' +
        'threads by observing the rate at which this increases.',
      collect() {
        read(this, (work) => work.totalMs);
      },
    });
    new Gauge({
      ...common,
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      collect() {
        read(this, (work) => work.longestMs);
      },
    });
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
