/**
 * A keyed work queue in the manner of client-go's rate-limited delaying queue: dedupe, at most
 * one in-flight item per key, requeue-after timers, and per-item backoff plus an overall rate
 * limit for retries.
 */
import type { Cancel, Clock } from '../../lib/clock.ts';
import {
  backoffDelayMs,
  type BackoffOptions,
  TokenBucket,
  type TokenBucketOptions,
} from '../../lib/ratelimit.ts';

/** Observers of a {@link WorkQueue}, typically wired to {@link ControllerMetrics}. */
export interface WorkQueueHooks {
  /** A key was handed out by `get()` after waiting `waitedMs` ms since it became queued. */
  onDequeue?(key: string, waitedMs: number): void;
  /** The number of keys ready for `get()` changed to `depth`. */
  onDepth?(depth: number): void;
  /** `addRateLimited(key)` was called (a retry). */
  onRetry?(key: string): void;
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
  readonly #processing = new Set<string>();
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
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Adds `key` after `delayMs` ms; if a timer for `key` is already due sooner, that one wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
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
    this.#options.onRetry?.(key);
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

  /** Waits for the next key and marks it in flight; resolves `undefined` once shut down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#ready.shift();
    if (key !== undefined) return Promise.resolve(this.#handOut(key));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` no longer in flight; if it was added meanwhile, it is queued now. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
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
    this.#options.onDepth?.(this.#ready.length);
  }

  #handOut(key: string): string {
    this.#dirty.delete(key);
    this.#processing.add(key);
    const queuedAt = this.#queuedAtMs.get(key) ?? this.#options.clock.now();
    this.#queuedAtMs.delete(key);
    this.#options.onDepth?.(this.#ready.length);
    this.#options.onDequeue?.(key, this.#options.clock.now() - queuedAt);
    return key;
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
