/**
 * The durable inbox port: where the intake stores each verified delivery before it answers 2xx,
 * and where the workers claim deliveries, apply them and record the outcome. Two engines
 * implement it (operator/intake/inbox: embedded SQLite, NATS JetStream) and pass one conformance
 * suite; the intake's HTTP handler and the runtime's webhook workers see only this interface.
 * Types only: no I/O here.
 */
import type { WebhookScheme } from './webhook.ts';
import type { IntakeIntegrationStats } from './webhook.ts';

/** The Integration a delivery belongs to. */
export interface InboxIntegration {
  namespace: string;
  name: string;
  /** metadata.uid: seeds idempotency keys and scopes dedupe (a re-created Integration starts over). */
  uid: string;
}

/** A verified delivery, as the intake stores it. */
export interface InboxDelivery {
  integration: InboxIntegration;
  /**
   * The provider's id of this delivery or event (Stripe event id, X-Shopify-Webhook-Id,
   * X-GitHub-Delivery, webhook-id): deliveries with the same (integration uid, id) are one.
   */
  id: string;
  scheme: WebhookScheme;
  /** Event type as the provider names it (customer.updated, customers/update, issues.opened). */
  eventType: string;
  /** When the intake received it, epoch milliseconds. */
  receivedAt: number;
  /** The verified raw body, as received (UTF-8). */
  body: string;
}

/** A delivery handed to one worker, leased to it until it completes, retries or dead-letters. */
export interface ClaimedDelivery extends InboxDelivery {
  /** Attempts before this one (0 on the first claim). */
  attempts: number;
  /** Engine-specific handle of this claim; pass it back unchanged. */
  claim: string;
}

/** What `put` did: stored now, or the same delivery was stored before (answer 200 either way). */
export type PutOutcome = 'stored' | 'duplicate';

/** Why a delivery was refused at the door, for the counts. */
export type RejectKind = 'rejected' | 'ignored';

/** The version of a record last written through the inbox, for the stale-event guard. */
export interface AppliedVersion {
  /** Record id (the source's idField). */
  recordId: string;
  /** Record version (runtime/destination.ts recordVersion). */
  version: string;
}

/** The store is down, read-only or unreachable: the intake answers 503 and the sender retries. */
export class InboxUnavailableError extends Error {
  override readonly name = 'InboxUnavailableError';
}

/** The durable inbox. Every method may throw {@link InboxUnavailableError}. */
export interface Inbox {
  /** Identity of the store: replicas sharing one store answer the same value. */
  readonly store: string;
  /** `sqlite` or `jetstream`. */
  readonly engine: 'sqlite' | 'jetstream';
  /**
   * Stores `delivery` durably (committed, or acknowledged by the stream) and only then resolves;
   * a delivery with the same (integration uid, id) as a stored one resolves `duplicate` and is
   * stored once, however many intakes race.
   */
  put(delivery: InboxDelivery): Promise<PutOutcome>;
  /** Counts a delivery refused before storing (nothing else is kept of it). */
  count(
    integration: InboxIntegration,
    kind: RejectKind,
    detail: string,
    now: number,
  ): Promise<void>;
  /**
   * Claims up to `max` pending deliveries that are due at `now`, leasing them for `leaseMs`:
   * a claim not completed, retried or dead-lettered by then is handed out again (a worker that
   * died). Oldest first.
   */
  claim(max: number, now: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** The delivery is applied (or needs nothing): it is no longer pending. Records `applied`. */
  complete(delivery: ClaimedDelivery, applied: AppliedVersion | undefined): Promise<void>;
  /** The attempt failed and may be retried: pending again from `retryAt` (epoch ms). */
  retry(delivery: ClaimedDelivery, retryAt: number, error: string): Promise<void>;
  /** Every attempt failed (or it can never apply): kept aside and counted as dead-lettered. */
  deadLetter(delivery: ClaimedDelivery, error: string): Promise<void>;
  /**
   * Makes the dead-lettered deliveries of `integration` pending again, once per `request` value
   * (the annotation's): returns how many; a value handled before returns 0 and changes nothing.
   */
  redrive(integration: InboxIntegration, request: string): Promise<number>;
  /** The newest version applied for (integration uid, record id), if any. */
  appliedVersion(integrationUID: string, recordId: string): Promise<string | undefined>;
  /**
   * Whether a delivery with this (integration uid, delivery id) is stored (pending, done or
   * dead-lettered), as far back as the dedupe window keeps ids: the Stripe events-log check.
   */
  hasDelivery(integrationUID: string, deliveryId: string): Promise<boolean>;
  /** The figures of every Integration the store holds anything for, at `now`. */
  stats(now: number): Promise<IntakeIntegrationStats[]>;
  /** Whether the store answers now (readiness). */
  healthy(): Promise<boolean>;
  /** Releases the store (closes the database or the connection). */
  close(): Promise<void>;
}
