/**
 * A keyed work queue in the manner of client-go's rate-limited delaying queue: dedupe, at most
 * one in-flight item per key, requeue-after timers, and per-item backoff plus an overall rate
 * limit for retries. Its hooks report what client-go's queue metrics count, at the same points.
 */
import type { Cancel, Clock } from '../../lib/clock.ts';
import {
  backoffDelayMs,
  type BackoffOptions,
  TokenBucket,
  type TokenBucketOptions,
} from '../../lib/ratelimit.ts';

/**
 * Observers of a {@link WorkQueue}, typically wired to {@link ControllerMetrics}; each is called
 * where client-go's queue metrics count (workqueue_adds_total, _depth, _queue_duration_seconds,
 * _work_duration_seconds, _retries_total).
 */
export interface WorkQueueHooks {
  /** `key` became queued (an add of a key already queued is deduped and not reported). */
  onAdd?(key: string): void;
  /** The number of keys queued and not yet handed out (in flight ones re-added included). */
  onDepth?(depth: number): void;
  /** A key was handed out by `get()` after waiting `waitedMs` ms since it became queued. */
  onDequeue?(key: string, waitedMs: number): void;
  /** A key handed out was marked `done` after `workedMs` ms in flight. */
  onDone?(key: string, workedMs: number): void;
  /** A delayed add: `addAfter` or `addRateLimited` (a retry or a requested requeue). */
  onRetry?(key: string): void;
}

/** The work in flight of a queue: client-go's unfinished work and longest running processor. */
export interface UnfinishedWork {
  /** Milliseconds in flight, summed over the keys handed out and not yet done. */
  totalMs: number;
  /** Milliseconds in flight of the key handed out longest ago; 0 when none is. */
  longestMs: number;
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions extends BackoffOptions, TokenBucketOptions, WorkQueueHooks {
  /** Queue name used in logs and metrics. Required. */
  name: string;
  /** Time source for delays and wait measurement. Required (use `systemClock()` in production). */
  clock: Clock;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
}

interface DelayedAdd {
  atMs: number;
  cancel: Cancel;
}

/** A keyed work queue; keys are `namespace/name` strings. */
export class WorkQueue {
  /** The queue's name, for logs and metrics. */
  readonly name: string;
  readonly #options: WorkQueueOptions;
  readonly #bucket: TokenBucket;
  #ready: string[] = [];
  readonly #dirty = new Set<string>();
  /** Keys in flight, with when each was handed out (ms epoch). */
  readonly #processing = new Map<string, number>();
  readonly #queuedAtMs = new Map<string, number>();
  readonly #delayed = new Map<string, DelayedAdd>();
  readonly #failures = new Map<string, number>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  /** Stores options; no timers start until a delayed add. */
  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.#options = options;
    this.#bucket = new TokenBucket(options);
  }

  /** Queues `key` unless already queued; a key in flight is queued again only after `done`. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#queuedAtMs.set(key, this.#options.clock.now());
    this.#options.onAdd?.(key);
    this.#options.onDepth?.(this.#dirty.size);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Adds `key` after `delayMs` ms; if a timer for `key` is already due sooner, that one wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    this.#options.onRetry?.(key);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const atMs = this.#options.clock.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing !== undefined && existing.atMs <= atMs) return;
    existing?.cancel();
    const cancel = this.#options.clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { atMs, cancel });
  }

  /** Adds `key` after the longer of its own exponential backoff and the overall rate limit. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const itemDelay = backoffDelayMs(failures, this.#options, this.#options.random);
    const bucketDelay = this.#bucket.reserve(this.#options.clock.now());
    this.addAfter(key, Math.max(itemDelay, bucketDelay));
  }

  /**
   * Drops `key`'s pending timer, if any: a reconcile that asked for nothing more supersedes
   * it. Without this, a deleted object's timer (a schedule a month out) and its closure lived on
   * until it fired.
   */
  cancelAfter(key: string): void {
    this.#delayed.get(key)?.cancel();
    this.#delayed.delete(key);
  }

  /**
   * Queues now every key that waits out a failure's backoff, its backoff started over (the API
   * server answers again: the retry need not wait minutes, and a refusal in the server's first
   * seconds is retried soon). Keys waiting on a requeue they asked for keep their timers.
   * Returns how many keys were queued.
   */
  retryNow(): number {
    let retried = 0;
    for (const key of this.#failures.keys()) {
      if (!this.#delayed.has(key)) continue;
      this.cancelAfter(key);
      this.#failures.delete(key);
      this.add(key);
      retried++;
    }
    return retried;
  }

  /** How many keys wait on a timer. */
  get delayedCount(): number {
    return this.#delayed.size;
  }

  /** Resets `key`'s failure count, so its next `addRateLimited` starts from the base delay. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times `key` went through `addRateLimited` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The work in flight now, by the queue's clock. */
  unfinishedWork(): UnfinishedWork {
    const nowMs = this.#options.clock.now();
    let totalMs = 0;
    let longestMs = 0;
    for (const startedMs of this.#processing.values()) {
      totalMs += nowMs - startedMs;
      longestMs = Math.max(longestMs, nowMs - startedMs);
    }
    return { totalMs, longestMs };
  }

  /** Waits for the next key and marks it in flight; resolves `undefined` once shut down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#ready.shift();
    if (key !== undefined) return Promise.resolve(this.#handOut(key));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` no longer in flight; if it was added meanwhile, it is queued now. */
  done(key: string): void {
    const startedMs = this.#processing.get(key);
    if (startedMs === undefined) return;
    this.#processing.delete(key);
    this.#options.onDone?.(key, this.#options.clock.now() - startedMs);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#push(key);
    if (this.#processing.size === 0) this.#releaseDrainWaiters();
  }

  /** Stops the queue: adds are ignored, timers dropped, every pending and future `get()` gets undefined. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const delayed of this.#delayed.values()) delayed.cancel();
    this.#delayed.clear();
    this.#ready = [];
    this.#dirty.clear();
    this.#options.onDepth?.(0);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve(undefined);
    if (this.#processing.size === 0) this.#releaseDrainWaiters();
  }

  /** Shuts down, then resolves once every in-flight key has been marked `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #push(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter(this.#handOut(key));
      return;
    }
    this.#ready.push(key);
  }

  #handOut(key: string): string {
    const nowMs = this.#options.clock.now();
    this.#dirty.delete(key);
    this.#processing.set(key, nowMs);
    const queuedAt = this.#queuedAtMs.get(key) ?? nowMs;
    this.#queuedAtMs.delete(key);
    this.#options.onDepth?.(this.#dirty.size);
    this.#options.onDequeue?.(key, nowMs - queuedAt);
    return key;
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
