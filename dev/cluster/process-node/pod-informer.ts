import type { V1Pod } from '@kubernetes/client-node';
import { apiErrorCode, errorMessage, type NodeApi, type PodEvent } from './kube.ts';

/** Callbacks of the pod informer; each must not throw (errors are caught and logged anyway). */
export interface PodHandlers {
  /** A pod was added or changed (watch event, or seen in a list). */
  upsert: (pod: V1Pod) => void;
  /** A pod was deleted from the API. */
  remove: (pod: V1Pod) => void;
  /** A full list was taken: `uids` is every pod that exists (to find missed deletions). */
  listed: (uids: ReadonlySet<string>) => void;
}

/** Timings of the informer, in milliseconds. */
export interface PodInformerTimings {
  /** Full relist interval, a safety net for missed events. Default 5000. */
  resyncMs?: number;
  /** First retry delay after a failed list or watch; doubles up to 5000. Default 200. */
  retryMs?: number;
}

/**
 * List+watch of pods in all namespaces: resumes from the last resourceVersion, relists on
 * 410 Gone, restarts after any error with a capped backoff, and relists every few seconds.
 * It never stops on its own; only `stop()` ends it.
 */
export class PodInformer {
  readonly #api: NodeApi;
  readonly #handlers: PodHandlers;
  readonly #log: (message: string, fields?: Record<string, unknown>) => void;
  readonly #resyncMs: number;
  readonly #retryMs: number;
  #resourceVersion: string | undefined;
  #abort: AbortController | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #backoffMs: number;
  #stopped = false;

  /** Stores collaborators; does no I/O. */
  constructor(
    api: NodeApi,
    handlers: PodHandlers,
    log: (message: string, fields?: Record<string, unknown>) => void,
    timings: PodInformerTimings = {},
  ) {
    this.#api = api;
    this.#handlers = handlers;
    this.#log = log;
    this.#resyncMs = timings.resyncMs ?? 5000;
    this.#retryMs = timings.retryMs ?? 200;
    this.#backoffMs = this.#retryMs;
  }

  /** Lists once and opens the first watch; resolves when the watch is established. */
  async start(): Promise<void> {
    await this.#listAndWatch();
    this.#resyncTimer = setInterval(() => {
      void this.#resync();
    }, this.#resyncMs);
  }

  /** Stops watching and relisting. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#resyncTimer);
    clearTimeout(this.#retryTimer);
    this.#abort?.abort();
  }

  async #listAndWatch(): Promise<void> {
    if (this.#resourceVersion === undefined) {
      const { pods, resourceVersion } = await this.#api.listPods();
      this.#deliverList(pods);
      this.#resourceVersion = resourceVersion;
    }
    const abort = await this.#api.watchPods(
      this.#resourceVersion,
      (event) => {
        this.#onEvent(event);
      },
      (error) => {
        this.#onWatchEnd(error);
      },
    );
    if (this.#stopped) abort.abort();
    this.#abort = abort;
  }

  #onEvent({ type, object }: PodEvent): void {
    if (type === 'ERROR') {
      // A 410 here means our resourceVersion is too old: relist before watching again.
      if (object.code === 410) this.#resourceVersion = undefined;
      this.#log('pod watch error event', { code: object.code });
      this.#abort?.abort();
      return;
    }
    this.#backoffMs = this.#retryMs;
    this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
    if (type === 'BOOKMARK') return;
    this.#safely(() => {
      if (type === 'DELETED') this.#handlers.remove(object);
      else this.#handlers.upsert(object);
    });
  }

  #onWatchEnd(error: unknown): void {
    if (this.#stopped) return;
    if (error) {
      if (apiErrorCode(error) === 'Gone') this.#resourceVersion = undefined;
      this.#log('pod watch ended with an error; restarting', { error: errorMessage(error) });
    }
    this.#retry(error ? this.#nextBackoff() : 0);
  }

  #retry(delayMs: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (this.#stopped) return;
      this.#listAndWatch().catch((error: unknown) => {
        this.#log('pod list/watch failed; retrying', { error: errorMessage(error) });
        this.#retry(this.#nextBackoff());
      });
    }, delayMs);
  }

  #nextBackoff(): number {
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5000);
    return delay;
  }

  async #resync(): Promise<void> {
    try {
      const { pods } = await this.#api.listPods();
      if (!this.#stopped) this.#deliverList(pods);
    } catch (error) {
      this.#log('pod resync list failed', { error: errorMessage(error) });
    }
  }

  #deliverList(pods: readonly V1Pod[]): void {
    for (const pod of pods)
      this.#safely(() => {
        this.#handlers.upsert(pod);
      });
    const uids = new Set(pods.map((pod) => pod.metadata?.uid ?? ''));
    this.#safely(() => {
      this.#handlers.listed(uids);
    });
  }

  #safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.#log('pod handler failed', { error: errorMessage(error) });
    }
  }
}
