/**
 * A list-watch cache that never stops silently: lists (paged), watches with bookmarks and a
 * server-side timeout, resumes from the last resourceVersion, relists on 410 Gone, retries every
 * other failure with exponential backoff, and reports its health for `/readyz`.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { type Clock, sleep } from '../../lib/clock.ts';
import { joinKey } from '../../lib/key.ts';
import { ApiError } from './errors.ts';
import type { Log } from '../../lib/log.ts';
import type { ControllerMetrics } from './metrics.ts';
import {
  applyWatchEvent,
  type IndexFunc,
  IndexedStore,
  replaceAll,
  type StoreEvent,
} from './store.ts';
import { KubeListWatch, type ListWatchTransport, type WatchEvent } from './transport.ts';
import { backoffDelayMs } from '../../lib/ratelimit.ts';

/** Pacing of watch retries; defaults follow client-go's reflector backoff manager. */
export interface WatchRetryOptions {
  /** First retry delay, in ms. Default 800. */
  initialBackoffMs?: number;
  /** Largest retry delay, in ms. Default 30_000. */
  maxBackoffMs?: number;
  /** A watch open at least this long counts as a successful period and resets backoff, in ms. Default 60_000. */
  backoffResetMs?: number;
  /** A watch that ends cleanly sooner than this is treated as a failure (no hot loop), in ms. Default 1_000. */
  minWatchMs?: number;
}

/** Backoff state carried between attempts. */
export interface RetryState {
  /** Consecutive failures since the last successful period. */
  failures: number;
}

/** How one list or watch attempt ended. */
export interface AttemptEnding {
  /** Which call ended. */
  phase: 'list' | 'watch';
  /** The error, when it failed; absent when a watch was closed cleanly by the server. */
  error?: unknown;
  /** How long the attempt ran, in ms. */
  durationMs: number;
}

/** What the loop does next: relist or re-watch, after `delayMs`, and whether this was an error. */
export interface Recovery {
  state: RetryState;
  relist: boolean;
  delayMs: number;
  /** True when the ending counts as an error (logged, counted, affects health). */
  failed: boolean;
}

/** True for 410 Gone: the resourceVersion is too old to resume from. */
export function isGone(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.status === 410 || error.reason === 'Expired' || error.reason === 'Gone')
  );
}

/** Decides what follows an attempt's ending; pure, `random` in [0, 1) jitters the backoff. */
export function decideRecovery(
  state: RetryState,
  ending: AttemptEnding,
  options: WatchRetryOptions = {},
  random: () => number = Math.random,
): Recovery {
  const resetMs = options.backoffResetMs ?? 60_000;
  const healthyPeriod = ending.phase === 'watch' && ending.durationMs >= resetMs;
  const failures = healthyPeriod ? 0 : state.failures;
  if (ending.error === undefined && ending.durationMs >= (options.minWatchMs ?? 1_000)) {
    return { state: { failures: 0 }, relist: false, delayMs: 0, failed: false };
  }
  if (isGone(ending.error) && ending.phase === 'watch') {
    return { state: { failures }, relist: true, delayMs: 0, failed: false };
  }
  const delayMs = backoffDelayMs(
    failures,
    {
      baseDelayMs: options.initialBackoffMs ?? 800,
      maxDelayMs: options.maxBackoffMs ?? 30_000,
      jitter: 1,
    },
    random,
  );
  return {
    state: { failures: failures + 1 },
    relist: ending.phase === 'list' || isGone(ending.error),
    delayMs,
    failed: true,
  };
}

/** The server-side watch timeout in seconds: uniformly in [min, 2·min), like client-go. */
export function watchTimeoutSeconds(
  minWatchTimeoutMs: number,
  random: () => number = Math.random,
): number {
  return Math.max(1, Math.floor((minWatchTimeoutMs * (1 + random())) / 1000));
}

/** Inserts `namespaces/<ns>/` before the resource segment of a cluster-wide collection path. */
export function namespacedPath(path: string, namespace?: string): string {
  if (namespace === undefined || namespace === '' || path.includes('/namespaces/')) return path;
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash)}/namespaces/${namespace}${path.slice(slash)}`;
}

/** Handlers of cache changes; they should only enqueue keys. */
export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(old: T, object: T): void;
  onDelete?(object: T): void;
}

/** Options of {@link Informer}. */
export interface InformerOptions<T> extends WatchRetryOptions {
  /** Collection path, cluster-wide form, e.g. `/apis/tributary.dev/v1alpha1/integrations`. Required. */
  path: string;
  /** Restrict to one namespace (the path gets `namespaces/<ns>/`). Default: all namespaces. */
  namespace?: string;
  /** Credentials for the default transport. Required unless `transport` is given. */
  kubeConfig?: KubeConfig;
  /** Replaces the HTTP transport (tests). Default: {@link KubeListWatch} on `kubeConfig`. */
  transport?: ListWatchTransport<T>;
  /** Label selector. Default: none. */
  labelSelector?: string;
  /** Field selector. Default: none. */
  fieldSelector?: string;
  /** Logger. Required. */
  log: Log;
  /** Time source for timers and health. Required. */
  clock: Clock;
  /** Metrics sink. Default: none. */
  metrics?: ControllerMetrics;
  /** The `resource` metric label. Default: last segment of `path`. */
  resource?: string;
  /** Page size of lists (objects). Default 500; 0 lists everything at once. */
  pageSize?: number;
  /** Minimum server-side watch timeout, in ms; each watch picks [min, 2·min). Default 300_000. */
  minWatchTimeoutMs?: number;
  /** No event or bookmark for this long aborts the watch (dead connection), in ms. Default: watch timeout + 60_000. */
  idleTimeoutMs?: number;
  /** How long failures may last before `isHealthy()` turns false, in ms. Default 60_000. */
  unhealthyAfterMs?: number;
  /** Randomness in [0, 1) for jitter and timeouts. Default `Math.random`. */
  random?: () => number;
}

/** A generic list-watch cache of objects of one resource. */
export class Informer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>;
  readonly #store = new IndexedStore<T>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #abort = new AbortController();
  #resourceVersion = '';
  #synced = false;
  #lastError: unknown;
  #failingSinceMs: number | undefined;
  #running: Promise<void> | undefined;

  /** Stores options; nothing is fetched until `start`. */
  constructor(options: InformerOptions<T>) {
    this.#options = options;
  }

  /** The `resource` label of metrics and logs. */
  get resource(): string {
    return (
      this.#options.resource ?? this.#options.path.slice(this.#options.path.lastIndexOf('/') + 1)
    );
  }

  /** The cached object `namespace/name` (namespace '' for cluster-scoped). */
  get(namespace: string, name: string): T | undefined {
    return this.#store.getByKey(joinKey(namespace, name));
  }

  /** Cached objects, all or of one namespace. */
  list(namespace?: string): T[] {
    return this.#store.list(namespace);
  }

  /** True once the first full list has been applied. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Synced, and not failing for longer than `unhealthyAfterMs`. */
  isHealthy(): boolean {
    if (!this.#synced) return false;
    if (this.#failingSinceMs === undefined) return true;
    return (
      this.#options.clock.now() - this.#failingSinceMs < (this.#options.unhealthyAfterMs ?? 60_000)
    );
  }

  /** The error of the latest failed attempt, cleared by the next success. */
  get lastSyncError(): unknown {
    return this.#lastError;
  }

  /** The resourceVersion a watch would resume from. */
  get lastResourceVersion(): string {
    return this.#resourceVersion;
  }

  /** Adds a named index; call before `start` or at any time (existing objects are indexed). */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.#store.addIndex(name, fn);
  }

  /** Cached objects whose index `name` yields `value`. */
  byIndex(name: string, value: string): T[] {
    return this.#store.byIndex(name, value);
  }

  /** Registers change handlers (relists synthesize adds, updates and deletes). */
  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  /** Registers an add handler. */
  onAdd(fn: (object: T) => void): void {
    this.addHandlers({ onAdd: fn });
  }

  /** Registers an update handler. */
  onUpdate(fn: (old: T, object: T) => void): void {
    this.addHandlers({ onUpdate: fn });
  }

  /** Registers a delete handler. */
  onDelete(fn: (object: T) => void): void {
    this.addHandlers({ onDelete: fn });
  }

  /** Runs list-watch until `stop()` or `signal`; resolves when the loop has ended. */
  start(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) this.#abort.abort();
    signal?.addEventListener(
      'abort',
      () => {
        this.#abort.abort();
      },
      { once: true },
    );
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stops the loop and closes the watch; resolves when it has ended. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  /** Resolves true once synced, false if stopped first. */
  async waitForSync(pollMs = 50): Promise<boolean> {
    while (!this.#synced && !this.#abort.signal.aborted)
      await sleep(this.#options.clock, pollMs, this.#abort.signal);
    return this.#synced;
  }

  get #transport(): ListWatchTransport<T> {
    if (this.#options.transport !== undefined) return this.#options.transport;
    if (this.#options.kubeConfig === undefined)
      throw new Error('Informer needs kubeConfig or transport');
    this.#options.transport = new KubeListWatch<T>({
      kubeConfig: this.#options.kubeConfig,
      path: namespacedPath(this.#options.path, this.#options.namespace),
    });
    return this.#options.transport;
  }

  async #run(): Promise<void> {
    const { clock } = this.#options;
    const signal = this.#abort.signal;
    let state: RetryState = { failures: 0 };
    let relist = true;
    while (!signal.aborted) {
      const phase = relist ? 'list' : 'watch';
      const startedMs = clock.now();
      let error: unknown;
      try {
        if (relist) await this.#relist(signal);
        else await this.#watch(signal);
      } catch (caught) {
        error = caught;
      }
      if (this.#stopped()) break;
      if (phase === 'list' && error === undefined) {
        relist = false;
        continue;
      }
      const recovery = decideRecovery(
        state,
        { phase, error, durationMs: clock.now() - startedMs },
        this.#options,
        this.#options.random,
      );
      this.#report(phase, error, recovery);
      state = recovery.state;
      relist = recovery.relist;
      await sleep(clock, recovery.delayMs, signal);
    }
  }

  #report(phase: 'list' | 'watch', error: unknown, recovery: Recovery): void {
    const { log, metrics } = this.#options;
    const context = { resource: this.resource, phase, resourceVersion: this.#resourceVersion };
    if (!recovery.failed) {
      if (error !== undefined)
        log.info({ ...context, reason: (error as Error).message }, 'watch expired; relisting');
      this.#markHealthy();
      return;
    }
    metrics?.watchError(this.resource);
    this.#lastError = error ?? new Error('watch closed immediately');
    this.#failingSinceMs ??= this.#options.clock.now();
    log.warn(
      {
        ...context,
        err: this.#lastError,
        failures: recovery.state.failures,
        retryInMs: Math.round(recovery.delayMs),
      },
      'list-watch failed; retrying',
    );
  }

  #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  #markHealthy(): void {
    this.#lastError = undefined;
    this.#failingSinceMs = undefined;
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    const pageSize = this.#options.pageSize ?? 500;
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.#transport.list(
        {
          ...this.#selectors(),
          ...(pageSize > 0 ? { limit: pageSize } : {}),
          ...(continueToken !== undefined ? { continueToken } : {}),
        },
        signal,
      );
      items.push(...page.items);
      resourceVersion = page.resourceVersion;
      continueToken = page.continueToken;
    } while (continueToken !== undefined);
    this.#options.metrics?.watchRelist(this.resource);
    this.#resourceVersion = resourceVersion;
    this.#dispatch(replaceAll(this.#store, items));
    this.#synced = true;
    this.#markHealthy();
  }

  async #watch(parent: AbortSignal): Promise<void> {
    const { clock } = this.#options;
    const timeoutSeconds = watchTimeoutSeconds(
      this.#options.minWatchTimeoutMs ?? 300_000,
      this.#options.random,
    );
    const idleMs = this.#options.idleTimeoutMs ?? timeoutSeconds * 1000 + 60_000;
    const abort = new AbortController();
    const onParentAbort = () => {
      abort.abort();
    };
    parent.addEventListener('abort', onParentAbort, { once: true });
    let cancelIdle = clock.setTimeout(() => {
      abort.abort(new ApiError(0, `watch idle for ${idleMs} ms`));
    }, idleMs);
    try {
      const params = {
        resourceVersion: this.#resourceVersion,
        timeoutSeconds,
        ...this.#selectors(),
      };
      for await (const event of this.#transport.watch(params, abort.signal)) {
        cancelIdle();
        cancelIdle = clock.setTimeout(() => {
          abort.abort(new ApiError(0, `watch idle for ${idleMs} ms`));
        }, idleMs);
        this.#applyEvent(event);
      }
    } catch (error) {
      throw abort.signal.reason instanceof ApiError ? abort.signal.reason : error;
    } finally {
      cancelIdle();
      parent.removeEventListener('abort', onParentAbort);
    }
  }

  #applyEvent(event: WatchEvent<T>): void {
    switch (event.type) {
      case 'ERROR':
        throw new ApiError(
          event.object.code ?? 500,
          event.object.message ?? 'watch error event',
          event.object.reason,
        );
      case 'BOOKMARK':
        this.#resourceVersion = event.object.metadata?.resourceVersion ?? this.#resourceVersion;
        this.#markHealthy();
        return;
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        this.#resourceVersion = event.object.metadata?.resourceVersion ?? this.#resourceVersion;
        this.#dispatch([applyWatchEvent(this.#store, event.type, event.object)]);
        this.#markHealthy();
        return;
    }
  }

  #selectors(): { labelSelector?: string; fieldSelector?: string } {
    const { labelSelector, fieldSelector } = this.#options;
    return {
      ...(labelSelector !== undefined ? { labelSelector } : {}),
      ...(fieldSelector !== undefined ? { fieldSelector } : {}),
    };
  }

  #dispatch(events: StoreEvent<T>[]): void {
    for (const event of events) {
      for (const handlers of this.#handlers) {
        try {
          if (event.type === 'add') handlers.onAdd?.(event.object);
          else if (event.type === 'update') handlers.onUpdate?.(event.old, event.object);
          else handlers.onDelete?.(event.object);
        } catch (err) {
          this.#options.log.error({ err, resource: this.resource }, 'informer handler threw');
        }
      }
    }
  }
}
