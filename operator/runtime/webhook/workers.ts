/**
 * The webhook workers: claim due deliveries from the inbox, apply each through the sync's parts
 * (apply.ts), and record what became of it — complete, retry with exponential backoff, or after
 * `maxAttempts` dead-letter. Deliveries of one record are applied one at a time in this process
 * (claim order is arrival order), so a v1 and a v2 claimed together cannot race at the
 * destination. A worker that dies leaves its claims to expire and be claimed again: the
 * destination's idempotency key makes the repeat a replay.
 */
import type { ClaimedDelivery, Inbox } from '../../api/inbox.ts';
import { eventObject } from '../../api/webhook-events.ts';
import { sleep, type Clock } from '../../lib/clock.ts';
import type { Log } from '../../lib/log.ts';
import { toSyncError } from '../errors.ts';
import { isObject } from '../json.ts';
import { applyDelivery, type DeliveryOutcome } from './apply.ts';
import type { Connections } from './connections.ts';
import type { Directory } from './ports.ts';

/** Options of {@link WebhookWorkers}. */
export interface WorkersOptions {
  inbox: Inbox;
  directory: Directory;
  connections: Connections;
  log: Log;
  clock: Clock;
  /** Deliveries applied at once. Default 4. */
  concurrency?: number | undefined;
  /** How long a claim is held before another worker may take it, in ms. Default 120 s. */
  leaseMs?: number | undefined;
  /** Wait between claims while the inbox is empty, in ms. Default 200. */
  idleMs?: number | undefined;
  /** Attempts before a delivery is dead-lettered. Default 8. */
  maxAttempts?: number | undefined;
  /** First retry delay, doubled per attempt up to 5 minutes, in ms. Default 1000. */
  retryBaseMs?: number | undefined;
  /** Uniform random in [0, 1) for jitter. Default Math.random. */
  random?: (() => number) | undefined;
  /** Called once per finished attempt (metrics). */
  observe?:
    ((delivery: ClaimedDelivery, outcome: DeliveryOutcome, now: number) => void) | undefined;
}

const MAX_RETRY_MS = 5 * 60_000;

/** Delay before attempt `attempts + 1`: base·2^attempts capped, half of it jittered, ≥ Retry-After. */
export function retryDelayMs(
  attempts: number,
  baseMs: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(MAX_RETRY_MS, baseMs * 2 ** attempts);
  return Math.max(retryAfterMs ?? 0, Math.round(exponential / 2 + (random() * exponential) / 2));
}

/** The lock key of a delivery: its Integration and, when the body says, its record. */
function recordKey(delivery: ClaimedDelivery): string {
  try {
    const object = eventObject(delivery.scheme, JSON.parse(delivery.body), delivery.eventType);
    const id = isObject(object) ? object['id'] : undefined;
    return `${delivery.integration.uid}/${typeof id === 'string' || typeof id === 'number' ? String(id) : ''}`;
  } catch {
    return delivery.integration.uid;
  }
}

/** Claims and applies deliveries until stopped. */
export class WebhookWorkers {
  readonly #options: WorkersOptions;
  readonly #stop = new AbortController();
  readonly #chains = new Map<string, Promise<void>>();
  #inFlight = 0;
  #loop: Promise<void> | undefined;
  #wakeup: (() => void) | undefined;

  constructor(options: WorkersOptions) {
    this.#options = options;
  }

  /** Starts the claim loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Claims nothing more and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await Promise.all([...this.#chains.values()]);
  }

  /**
   * Wakes the claim loop now: a delivery was just stored (the intake calls this after a commit),
   * or a slot freed. Without it the loop looks again after `idleMs`.
   */
  wake(): void {
    const wakeup = this.#wakeup;
    this.#wakeup = undefined;
    wakeup?.();
  }

  async #run(): Promise<void> {
    const { inbox, clock, log } = this.#options;
    const concurrency = this.#options.concurrency ?? 4;
    while (!this.#stop.signal.aborted) {
      const room = concurrency - this.#inFlight;
      let claimed: ClaimedDelivery[] = [];
      if (room > 0) {
        claimed = await inbox
          .claim(room, clock.now(), this.#options.leaseMs ?? 120_000)
          .catch((error: unknown) => {
            log.warn({ err: toSyncError(error).message }, 'cannot claim webhook deliveries');
            return [];
          });
      }
      for (const delivery of claimed) this.#schedule(delivery);
      // Busy or idle, wait for a slot to free, a delivery to be stored, or idleMs.
      if (claimed.length === 0 || claimed.length === room) await this.#idle();
    }
  }

  /** Sleeps `idleMs` unless woken first ({@link wake}). */
  async #idle(): Promise<void> {
    const woken = new Promise<void>((resolve) => {
      this.#wakeup = resolve;
    });
    const slept = sleep(this.#options.clock, this.#options.idleMs ?? 200, this.#stop.signal);
    await Promise.race([woken, slept.catch(() => undefined)]);
    this.#wakeup = undefined;
  }

  /** Runs `delivery` after the deliveries of the same record claimed before it. */
  #schedule(delivery: ClaimedDelivery): void {
    const key = recordKey(delivery);
    this.#inFlight++;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#process(delivery))
      .finally(() => {
        this.#inFlight--;
        if (this.#chains.get(key) === next) this.#chains.delete(key);
        this.wake();
      });
    this.#chains.set(key, next);
  }

  async #process(delivery: ClaimedDelivery): Promise<void> {
    const outcome = await this.#attempt(delivery);
    const { clock, log } = this.#options;
    const now = clock.now();
    this.#options.observe?.(delivery, outcome, now);
    const where = {
      namespace: delivery.integration.namespace,
      integration: delivery.integration.name,
      delivery: delivery.id,
    };
    try {
      await this.#record(delivery, outcome, now);
    } catch (error) {
      log.warn(
        { ...where, err: toSyncError(error).message },
        'cannot record the delivery outcome; its claim expires and it is applied again',
      );
    }
    if (outcome.kind === 'dead' || outcome.kind === 'retry')
      log.warn({ ...where, outcome: outcome.kind, err: outcome.error }, 'webhook delivery failed');
    else log.debug({ ...where, outcome: outcome.kind }, 'webhook delivery handled');
  }

  /** Looks the Integration up and applies the delivery; failures of the lookup are retried. */
  async #attempt(delivery: ClaimedDelivery): Promise<DeliveryOutcome> {
    const { directory, connections, inbox, clock } = this.#options;
    const { namespace, name, uid } = delivery.integration;
    try {
      const integration = await directory.integration(namespace, name);
      if (integration?.metadata.uid !== uid)
        return { kind: 'skipped', reason: 'the Integration was deleted' };
      const parts = await connections.of(integration, clock.now());
      return await applyDelivery(delivery, {
        integration,
        parts,
        appliedVersion: (id) => inbox.appliedVersion(uid, id),
      });
    } catch (error) {
      const failure = toSyncError(error);
      return { kind: 'retry', error: `${failure.code}: ${failure.message}` };
    }
  }

  /** Writes the outcome to the inbox. */
  async #record(delivery: ClaimedDelivery, outcome: DeliveryOutcome, now: number): Promise<void> {
    const { inbox } = this.#options;
    switch (outcome.kind) {
      case 'applied':
        return inbox.complete(delivery, outcome.applied);
      case 'skipped':
        return inbox.complete(delivery, undefined);
      case 'dead':
        return inbox.deadLetter(delivery, outcome.error);
      case 'retry': {
        if (delivery.attempts + 1 >= (this.#options.maxAttempts ?? 8)) {
          return inbox.deadLetter(
            delivery,
            `after ${delivery.attempts + 1} attempts: ${outcome.error}`,
          );
        }
        const delay = retryDelayMs(
          delivery.attempts,
          this.#options.retryBaseMs ?? 1000,
          this.#options.random ?? Math.random,
          outcome.retryAfterMs,
        );
        return inbox.retry(delivery, now + delay, outcome.error);
      }
    }
  }
}
