/**
 * The controller loop: N workers take keys from a {@link WorkQueue}, call the {@link Reconciler},
 * and turn its result or error into the queue action of the result contract (docs/architecture.md).
 */
import type { Clock } from '../../lib/clock.ts';
import { ApiError, isMachineryError } from '../../lib/kube/errors.ts';
import { NOT_LEADER } from './fence.ts';
import { reconcileLogger, type Log } from '../../lib/log.ts';
import type { ControllerMetrics, ReconcileOutcome } from './metrics.ts';
import type { WorkQueue } from './queue.ts';

/** What a successful reconcile asks for: nothing, or another reconcile after a delay. */
export interface ReconcileResult {
  /** Reconcile the key again after this many milliseconds (schedules, polling). */
  requeueAfterMs?: number;
}

/** What one reconcile carries down to every call it makes. */
export interface ReconcileContext {
  /** The reconcile's child logger: `controller`, `namespace`, `name`, `reconcileID`. */
  log: Log;
  /** Aborts when shutdown gives up waiting for in-flight reconciles; API calls pass it on. */
  signal: AbortSignal;
}

/**
 * The whole reconcile contract: return to finish (optionally requeue after a delay), throw to
 * retry with backoff, throw `TerminalError` to stop retrying. `key` is `namespace/name`.
 */
export interface Reconciler {
  /** Makes the world match the object named `key`; NotFound means done. */
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult>;
}

/** The queue action for one reconcile's ending: a pure function of its result or error. */
export type ReconcileAction =
  | { outcome: 'success'; forget: true }
  | { outcome: 'requeue'; forget: true; requeueAfterMs: number }
  | { outcome: 'error'; forget: false }
  | { outcome: 'terminal'; forget: true };

/** Maps a reconcile's ending (`{ result }` or `{ error }`) to what the queue must do. */
export function decideAction(
  ending: { result: ReconcileResult } | { error: unknown },
): ReconcileAction {
  if ('result' in ending) {
    const after = ending.result.requeueAfterMs;
    return after !== undefined && after > 0
      ? { outcome: 'requeue', forget: true, requeueAfterMs: after }
      : { outcome: 'success', forget: true };
  }
  const error = ending.error;
  if (!isMachineryError(error)) return { outcome: 'error', forget: false };
  switch (error.code) {
    case 'TERMINAL':
      return { outcome: 'terminal', forget: true };
    case 'API':
      return { outcome: 'error', forget: false };
  }
}

/** Options of {@link Controller}. */
export interface ControllerOptions {
  /** Controller name: the `controller` log field and metric label. Required. */
  name: string;
  /** Queue of keys to reconcile; the controller shuts it down on stop. Required. */
  queue: WorkQueue;
  /** The reconcile logic. Required. */
  reconciler: Reconciler;
  /** Logger; each reconcile gets a child logger. Required. */
  log: Log;
  /** Time source for durations and the drain timeout. Required. */
  clock: Clock;
  /** Concurrent workers (distinct keys reconcile in parallel). Default 2. */
  workers?: number;
  /** Metrics sink. Default: none. */
  metrics?: ControllerMetrics;
  /** On stop, how long to wait for in-flight reconciles before aborting their signal, in ms. Default 30_000. */
  drainTimeoutMs?: number;
}

/** Runs reconcile workers until stopped. */
export class Controller {
  readonly #options: ControllerOptions;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /** Stores options; nothing runs until `start`. */
  constructor(options: ControllerOptions) {
    this.#options = options;
  }

  /** Starts the workers; resolves once stopped (via `stop()` or `signal`) and drained. */
  start(signal?: AbortSignal): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    const workers = Array.from({ length: this.#options.workers ?? 2 }, () => this.#work());
    this.#running = Promise.all(workers).then(() => this.#stopping);
    if (signal?.aborted === true) void this.stop();
    else signal?.addEventListener('abort', () => void this.stop(), { once: true });
    return this.#running;
  }

  /** Stops taking keys and waits for in-flight reconciles (aborting them after `drainTimeoutMs`). */
  stop(): Promise<void> {
    this.#stopping ??= this.#drain();
    return this.#stopping;
  }

  async #drain(): Promise<void> {
    const cancel = this.#options.clock.setTimeout(() => {
      this.#abort.abort(new Error('controller stopped'));
    }, this.#options.drainTimeoutMs ?? 30_000);
    try {
      await this.#options.queue.shutDownWithDrain();
    } finally {
      cancel();
    }
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#options.queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcileOne(key);
      } finally {
        this.#options.queue.done(key);
      }
    }
  }

  async #reconcileOne(key: string): Promise<void> {
    const { name, queue, reconciler, clock, metrics } = this.#options;
    const log = reconcileLogger(this.#options.log, name, key);
    const startedMs = clock.now();
    let action: ReconcileAction;
    try {
      const ctx = { log, signal: this.#abort.signal };
      action = decideAction({ result: await reconciler.reconcile(key, ctx) });
    } catch (error) {
      action = decideAction({ error });
      if (isConflict(error)) metrics?.statusConflict(name);
      logFailure(log, action.outcome, error, queue.numRequeues(key));
    }
    if (action.forget) queue.forget(key);
    // Level-based: a reconcile that asks for nothing more (NotFound, suspended, idle) makes an
    // earlier requeue timer of the key moot; it would hold the key until it fired.
    if (action.outcome === 'success') queue.cancelAfter(key);
    if (action.outcome === 'error') queue.addRateLimited(key);
    if (action.outcome === 'requeue') queue.addAfter(key, action.requeueAfterMs);
    const seconds = (clock.now() - startedMs) / 1000;
    metrics?.reconcileFinished(name, action.outcome, seconds);
    log.debug({ result: action.outcome, seconds }, 'reconciled');
  }
}

function logFailure(log: Log, outcome: ReconcileOutcome, error: unknown, requeues: number): void {
  const err = error instanceof Error ? error : new Error(String(error));
  switch (outcome) {
    case 'terminal':
      log.error({ err }, 'reconcile failed terminally; not retrying');
      return;
    case 'error':
      if (err instanceof ApiError && err.reason === NOT_LEADER) {
        // The term is ending (the lease was lost): expected, and the next leader redoes it.
        log.info({ err: err.message }, 'write not sent: no longer the leader');
        return;
      }
      if (isConflict(err)) {
        // A write on a stale cache (status PUT with an old resourceVersion): the retry reads the
        // newer object. Ordinary under concurrent writers; tributary_status_conflicts_total.
        log.debug({ err: err.message, requeues }, 'object modified since read; retrying');
        return;
      }
      log.error({ err, requeues }, 'reconcile failed; retrying with backoff');
      return;
    case 'requeue':
    case 'success':
      // Only a returned result requeues or succeeds: nothing failed.
      return;
  }
}

/** An optimistic-concurrency conflict: 409 Conflict ("the object has been modified"). */
function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && error.reason === 'Conflict';
}
