/**
 * Leader election on a Lease, after client-go's leaderelection: acquire when free or expired
 * (judged by when this replica last saw the record change, not by remote timestamps), renew
 * every retry period, step down when renewal fails for longer than the renew deadline, and
 * release the lease on stop so another replica takes over at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Clock, sleep } from '../../lib/clock.ts';
import { isApiStatus } from '../../lib/kube/errors.ts';
import type { LeaseRecord, LeaseStore, VersionedLease } from './lease.ts';
import type { Log } from '../../lib/log.ts';
import type { ControllerMetrics } from './metrics.ts';

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  /** Where the lease lives (e.g. `KubeLeaseStore` for namespace/name). Required. */
  store: LeaseStore;
  /** Time source. Required. */
  clock: Clock;
  /** Logger. Required. */
  log: Log;
  /** This replica's identity. Default: hostname + `_` + 6 random hex chars. */
  identity?: string;
  /** How long a claim lasts without renewal, in ms (written as whole seconds). Default 15_000. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying renewal before it steps down, in ms. Default 10_000. */
  renewDeadlineMs?: number;
  /** Wait between attempts, in ms (acquire attempts add up to 120% jitter). Default 2_000. */
  retryPeriodMs?: number;
  /**
   * Called on becoming leader; `signal` aborts when leadership ends. A returned promise is
   * awaited (e.g. controllers draining) before the lease is released on stop.
   */
  onStartedLeading?(signal: AbortSignal): void | Promise<void>;
  /** Called once when leadership ends (lost or stopped). */
  onStoppedLeading?(): void;
  /** Metrics sink for the `tributary_leader` gauge. Default: none. */
  metrics?: ControllerMetrics;
  /** Randomness in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

/** What this replica last saw of the lease, and when (local time) it last changed. */
interface Observation {
  lease: VersionedLease;
  observedAtMs: number;
}

/** Competes for a Lease and runs the leader callbacks. */
export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #stop = new AbortController();
  #identity: string | undefined;
  #observed: Observation | undefined;
  #leaderAbort: AbortController | undefined;
  #leaderWork: Promise<void> | undefined;
  #running: Promise<void> | undefined;
  /** Local time when the last successful acquire or renew attempt began. */
  #renewedAtMs: number | undefined;
  #leading = false;

  /** Stores options; nothing is read or written until `start`. */
  constructor(options: LeaderElectorOptions) {
    this.#options = options;
  }

  /** This replica's identity as written to `holderIdentity`. */
  get identity(): string {
    this.#identity ??= this.#options.identity ?? `${hostname()}_${randomBytes(3).toString('hex')}`;
    return this.#identity;
  }

  /**
   * Campaigns until leader, then renews until leadership is lost or `stop()`/`signal`; resolves
   * then (after releasing the lease when stopped). A replica that lost the lease should exit.
   */
  start(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) this.#stop.abort();
    signal?.addEventListener(
      'abort',
      () => {
        this.#stop.abort();
      },
      { once: true },
    );
    this.#running ??= this.#run();
    return this.#running;
  }

  /**
   * Whether this replica may act now: it leads and renewed within the renew deadline, by its own
   * clock. Another replica can take over only a lease duration after it last saw a renewal, which
   * is longer, so a replica that says true here is still the only one acting (the fence of
   * fence.ts). False after a pause or partition outlasted the deadline, before any renew attempt.
   */
  holdsLease(): boolean {
    if (!this.#leading || this.#renewedAtMs === undefined) return false;
    const renewDeadlineMs = this.#options.renewDeadlineMs ?? 10_000;
    return this.#options.clock.now() - this.#renewedAtMs < renewDeadlineMs;
  }

  /** Stops campaigning or leading; if leading, ends leadership and releases the lease. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const {
      leaseDurationMs = 15_000,
      renewDeadlineMs = 10_000,
      retryPeriodMs = 2_000,
    } = this.#options;
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs * 1.2)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > 1.2 × retryPeriod');
    }
    const acquired = await this.#acquire(retryPeriodMs);
    if (!acquired) return;
    this.#becomeLeader();
    const stopped = await this.#renewUntilLost(renewDeadlineMs, retryPeriodMs);
    await this.#endLeadership();
    if (stopped) await this.#release();
  }

  async #acquire(retryPeriodMs: number): Promise<boolean> {
    const random = this.#options.random ?? Math.random;
    while (!this.#stop.signal.aborted) {
      if (await this.#tryAcquireOrRenew()) return true;
      await sleep(this.#options.clock, retryPeriodMs * (1 + 1.2 * random()), this.#stop.signal);
    }
    return false;
  }

  /** Renews every retry period; returns true when stopped, false when the renew deadline passed. */
  async #renewUntilLost(renewDeadlineMs: number, retryPeriodMs: number): Promise<boolean> {
    const { clock } = this.#options;
    let lastRenewMs = clock.now();
    for (;;) {
      await sleep(clock, retryPeriodMs, this.#stop.signal);
      if (this.#stop.signal.aborted) return true;
      const remainingMs = Math.max(0, renewDeadlineMs - (clock.now() - lastRenewMs));
      // A hung request must not keep a replica leading past its deadline.
      const renewed = await Promise.race([
        this.#tryAcquireOrRenew(),
        sleep(clock, remainingMs).then(() => false),
      ]);
      if (renewed) {
        lastRenewMs = clock.now();
      } else if (clock.now() - lastRenewMs >= renewDeadlineMs) {
        this.#options.log.error(
          { identity: this.identity },
          'failed to renew lease within the renew deadline; stepping down',
        );
        return false;
      }
    }
  }

  /**
   * One attempt, after client-go's tryAcquireOrRenew; any error counts as "not now". The leader
   * first renews straight from the record it wrote last (one round trip, not two: on a slow
   * network the GET alone can eat the renew deadline) and reads only when that write fails.
   */
  async #tryAcquireOrRenew(): Promise<boolean> {
    if (this.#leading && (await this.#renewFromObserved())) return true;
    const { store, clock, log } = this.#options;
    const nowMs = clock.now();
    try {
      const current = await store.get();
      if (current === undefined) {
        this.#observe(await store.create(this.#desired(nowMs, undefined)), clock.now());
        this.#renewedAtMs = nowMs;
        return true;
      }
      if (current.resourceVersion !== this.#observed?.lease.resourceVersion)
        this.#observe(current, nowMs);
      if (
        !canTakeLease(current.record, this.identity, this.#observed?.observedAtMs ?? nowMs, nowMs)
      )
        return false;
      this.#observe(
        await store.update(this.#desired(nowMs, current.record), current.resourceVersion),
        clock.now(),
      );
      // When the attempt began: others time the claim from when they saw it, which is later.
      this.#renewedAtMs = nowMs;
      return true;
    } catch (err) {
      // A conflict means another replica wrote first; the next attempt re-reads.
      if (!isApiStatus(err, 409))
        log.warn({ err, identity: this.identity }, 'lease acquire/renew failed');
      return false;
    }
  }

  /** The leader's fast renew: an update at the last-seen resourceVersion; false on any failure. */
  async #renewFromObserved(): Promise<boolean> {
    const { store, clock, log } = this.#options;
    const observed = this.#observed?.lease;
    if (observed?.record.holderIdentity !== this.identity) return false;
    const nowMs = clock.now();
    try {
      const renewed = await store.update(
        this.#desired(nowMs, observed.record),
        observed.resourceVersion,
      );
      this.#observe(renewed, clock.now());
      this.#renewedAtMs = nowMs;
      return true;
    } catch (err) {
      log.debug(
        { err, identity: this.identity },
        'lease renew from the last record failed; re-reading',
      );
      return false;
    }
  }

  #desired(nowMs: number, current: LeaseRecord | undefined): LeaseRecord {
    const mine = current?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil((this.#options.leaseDurationMs ?? 15_000) / 1000),
      acquireTimeMs: mine ? current.acquireTimeMs : nowMs,
      renewTimeMs: nowMs,
      leaseTransitions:
        current === undefined ? 0 : mine ? current.leaseTransitions : current.leaseTransitions + 1,
    };
  }

  #observe(lease: VersionedLease, atMs: number): void {
    this.#observed = { lease, observedAtMs: atMs };
  }

  #becomeLeader(): void {
    this.#leading = true;
    this.#options.metrics?.setLeader(true);
    this.#leaderAbort = new AbortController();
    this.#options.log.info({ identity: this.identity }, 'became leader');
    this.#leaderWork = Promise.resolve()
      .then(() =>
        this.#options.onStartedLeading?.(this.#leaderAbort?.signal ?? AbortSignal.abort()),
      )
      .catch((err: unknown) => {
        this.#options.log.error({ err }, 'onStartedLeading failed');
      });
  }

  async #endLeadership(): Promise<void> {
    this.#leading = false;
    this.#leaderAbort?.abort();
    await this.#leaderWork;
    this.#options.metrics?.setLeader(false);
    this.#options.log.info({ identity: this.identity }, 'stopped leading');
    try {
      this.#options.onStoppedLeading?.();
    } catch (err) {
      this.#options.log.error({ err }, 'onStoppedLeading failed');
    }
  }

  /** Gives the lease up (empty holder, 1 s duration) if we still hold it, like ReleaseOnCancel. */
  async #release(): Promise<void> {
    const { store, clock, log } = this.#options;
    try {
      const current = await store.get();
      if (current?.record.holderIdentity !== this.identity) return;
      const nowMs = clock.now();
      const released = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTimeMs: nowMs,
        renewTimeMs: nowMs,
        leaseTransitions: current.record.leaseTransitions,
      };
      await store.update(released, current.resourceVersion);
      log.info({ identity: this.identity }, 'released lease');
    } catch (err) {
      log.warn({ err, identity: this.identity }, 'failed to release lease; it will expire');
    }
  }
}

/**
 * Whether `identity` may write the lease now: it is free (no holder), ours, or its holder's
 * claim expired — `leaseDurationSeconds` after this replica observed the record last change.
 */
export function canTakeLease(
  record: LeaseRecord,
  identity: string,
  observedAtMs: number,
  nowMs: number,
): boolean {
  if (record.holderIdentity === '' || record.holderIdentity === identity) return true;
  return observedAtMs + record.leaseDurationSeconds * 1000 <= nowMs;
}
