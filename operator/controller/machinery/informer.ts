/**
 * A list-watch cache that never stops silently: lists (paged), watches with bookmarks and a
 * server-side timeout, resumes from the last resourceVersion, relists on 410 Gone, retries every
 * other failure with exponential backoff, and reports its health for `/readyz`.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Clock, sleep } from '../../lib/clock.ts';
import { joinKey } from '../../lib/key.ts';
import { ApiError } from '../../lib/kube/errors.ts';
import type { Log } from '../../lib/log.ts';
import type { ControllerMetrics } from './metrics.ts';
import {
  applyWatchEvent,
  type IndexFunc,
  IndexedStore,
  replaceAll,
  type StoreEvent,
} from './store.ts';
import type { ApiTransport } from '../../lib/kube/api.ts';
import {
  decideRecovery,
  type Recovery,
  type RetryState,
  type WatchRetryOptions,
  watchTimeoutSeconds,
} from './recovery.ts';
import {
  KubeListWatch,
  type ListWatchTransport,
  namespacedPath,
  selectors,
  type WatchEvent,
} from './transport.ts';

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
  /** The authenticated API transport of the default list-watch. Required unless `transport` is given. */
  api?: ApiTransport;
  /** Replaces the list-watch (tests). Default: {@link KubeListWatch} on `api`. */
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
  /** Trims each object before it is cached (the default list-watch applies it). Default: none. */
  transform?: (object: T) => T;
}

/** A generic list-watch cache of objects of one resource. */
export class Informer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>;
  readonly #store = new IndexedStore<T>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #abort = new AbortController();
  #resourceVersion = '';
  #synced = false;
  #failingSinceMs: number | undefined;
  #running: Promise<void> | undefined;
  #backoff = new AbortController();
  #woken = false;

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

  /** The API server answers again: ends a backoff wait now and starts the backoff over. */
  wake(): void {
    this.#woken = true;
    this.#backoff.abort();
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
    if (this.#options.api === undefined) throw new Error('Informer needs api or transport');
    this.#options.transport = new KubeListWatch<T>({
      api: this.#options.api,
      path: namespacedPath(this.#options.path, this.#options.namespace),
      ...(this.#options.transform ? { transform: this.#options.transform } : {}),
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
      if (error === undefined) this.#options.metrics?.watchResumed(this.resource);
      const recovery = decideRecovery(
        state,
        { phase, error, durationMs: clock.now() - startedMs },
        this.#options,
        this.#options.random,
      );
      this.#report(phase, error, recovery);
      state = recovery.state;
      relist = recovery.relist;
      this.#backoff = new AbortController();
      await sleep(clock, recovery.delayMs, AbortSignal.any([signal, this.#backoff.signal]));
      if (this.#woken) state = { failures: 0 };
      this.#woken = false;
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
    this.#failingSinceMs ??= this.#options.clock.now();
    log.warn(
      {
        ...context,
        err: error ?? new Error('watch closed immediately'),
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
          ...selectors(this.#options),
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
        ...selectors(this.#options),
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
