/**
 * The scale-out inbox: NATS JetStream, shared by every intake replica. Deliveries are messages of
 * a work-queue stream, one subject per Integration (`<stream>.in.<uid>`); `put` resolves after the
 * publish ack. A durable pull consumer shared by every replica is the claim (its ack wait is the
 * lease); dead letters go to `<stream>_DEAD`. Dedupe, counters, redrive and applied versions live
 * in KV (jetstream-state.ts). While the connection is down every method throws
 * InboxUnavailableError at once; operations time out after `timeoutMs`.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type {
  AppliedVersion,
  ClaimedDelivery,
  Inbox,
  InboxDelivery,
  InboxIntegration,
  PutOutcome,
  RejectKind,
} from '../../api/inbox.ts';
import type { IntakeIntegrationStats } from '../../api/webhook.ts';
import { bucketOf, clip, unavailable } from './figures.ts';
import { CasStore, emptyCounts, keyToken, bumpRecent, type CountsDoc } from './jetstream-state.ts';
import { CONSUMER, provision, type Parts } from './jetstream-provision.ts';
import { collectStats, type StreamNames } from './jetstream-stats.ts';

/** Options of {@link openJetStreamInbox}. */
export interface JetStreamInboxOptions {
  /** NATS server URLs (`nats://host:4222`). */
  servers: string | string[];
  /** Stream name; also prefixes subjects, the dead-letter stream and the KV buckets. */
  stream?: string;
  /** Replicas of the streams and buckets: 1 in tests (one server), 3 in production. */
  replicas?: number;
  /** How long a delivery's id is kept for dedupe (the seen bucket's TTL), ms. Default 7 days. */
  dedupeWindowMs?: number;
  /** Bound of every request to the server (connect, publish, KV), ms. Default 2000. */
  timeoutMs?: number;
  /** The broker's Nats-Msg-Id window (racing replicas), ms. Default 2 minutes. */
  duplicateWindowMs?: number;
  /** The consumer's initial ack wait (lease), ms; `claim` updates it when asked for another. */
  leaseMs?: number;
}

/** What a stored message carries. */
type Stored = Omit<InboxDelivery, 'body'> & { body: string };

const DEFAULT_STREAM = 'TRIBUTARY_INBOX';

/** Connects to NATS, creates the streams, consumer and buckets if missing, and opens the inbox. */
export async function openJetStreamInbox(options: JetStreamInboxOptions): Promise<Inbox> {
  const stream = options.stream ?? DEFAULT_STREAM;
  const store = `jetstream:${stream}`;
  const timeout = options.timeoutMs ?? 2000;
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({
      servers: options.servers,
      timeout,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 5000,
      name: `tributary-intake-${randomUUID().slice(0, 8)}`,
    });
    const inbox = await JetStreamInbox.create(nc, { ...options, stream, timeoutMs: timeout });
    return inbox;
  } catch (error) {
    await nc?.close().catch(() => undefined);
    throw unavailable(store, 'opening', error);
  }
}

class JetStreamInbox implements Inbox {
  readonly engine = 'jetstream' as const;
  readonly store: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #names: StreamNames;
  readonly #seen: CasStore;
  readonly #state: CasStore;
  readonly #claims = new Map<string, { msg: JsMsg; until: number }>();
  #leaseMs: number;
  #down = false;

  private constructor(nc: NatsConnection, parts: Parts) {
    this.#nc = nc;
    this.#js = parts.js;
    this.#jsm = parts.jsm;
    this.#names = parts.names;
    this.#seen = new CasStore(parts.seen);
    this.#state = new CasStore(parts.state);
    this.#leaseMs = parts.leaseMs;
    this.store = `jetstream:${parts.names.stream}`;
    void this.#watch();
  }

  static async create(
    nc: NatsConnection,
    options: Required<Pick<JetStreamInboxOptions, 'stream' | 'timeoutMs'>> & JetStreamInboxOptions,
  ) {
    return new JetStreamInbox(nc, await provision(nc, options));
  }

  async #watch(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnecting') this.#down = true;
      if (status.type === 'reconnect') this.#down = false;
    }
  }

  /** Runs `work`, failing at once while disconnected; every failure becomes unavailable. */
  async #call<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      if (this.#nc.isClosed()) throw new Error('the connection is closed');
      if (this.#down) throw new Error(`not connected to ${this.#nc.getServer()}`);
      return await work();
    } catch (error) {
      throw unavailable(this.store, doing, error);
    }
  }

  #seenKey(delivery: Pick<InboxDelivery, 'integration' | 'id'>): string {
    return `seen.${delivery.integration.uid}.${keyToken(delivery.id)}`;
  }

  put(delivery: InboxDelivery): Promise<PutOutcome> {
    return this.#call('storing a delivery', async () => {
      const key = this.#seenKey(delivery);
      const seen = (await this.#seen.read(key)) !== undefined;
      const outcome = seen ? 'duplicate' : await this.#publish(delivery);
      // Marked seen only after the stream stored it (a crash before this loses nothing), and
      // after a broker duplicate too: the put that stored it may have died before marking.
      if (!seen) await this.#seen.mark(key);
      await this.#bump(delivery.integration, (doc) => {
        if (outcome === 'duplicate') doc.duplicate += 1;
        else recordAccepted(doc, delivery);
      });
      return outcome;
    });
  }

  async #publish(delivery: InboxDelivery): Promise<PutOutcome> {
    const subject = `${this.#names.stream}.in.${delivery.integration.uid}`;
    const stored: Stored = { ...delivery };
    const ack = await this.#js.publish(subject, JSON.stringify(stored), {
      msgID: `${delivery.integration.uid}.${keyToken(delivery.id)}`,
      expect: { streamName: this.#names.stream },
    });
    return ack.duplicate ? 'duplicate' : 'stored';
  }

  #bump(integration: InboxIntegration, change: (doc: CountsDoc) => void): Promise<unknown> {
    return this.#state.update<CountsDoc>(`counts.${integration.uid}`, (value) => {
      const doc = value ?? emptyCounts(integration);
      doc.namespace = integration.namespace;
      doc.name = integration.name;
      change(doc);
      return doc;
    });
  }

  count(integration: InboxIntegration, kind: RejectKind, detail: string, now: number) {
    return this.#call(`counting a delivery ${kind}`, async () => {
      await this.#bump(integration, (doc) => {
        if (kind === 'ignored') {
          doc.ignored += 1;
          return;
        }
        doc.rejected += 1;
        doc.lastRejection = clip(detail);
        bumpRecent(doc, bucketOf(now), 1, now);
      });
    });
  }

  claim(max: number, _now: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.#call('claiming deliveries', async () => {
      if (leaseMs !== this.#leaseMs) {
        await this.#jsm.consumers.update(this.#names.stream, CONSUMER, {
          ack_wait: nanos(leaseMs),
        });
        this.#leaseMs = leaseMs;
      }
      this.#forgetExpired();
      const consumer = await this.#js.consumers.get(this.#names.stream, CONSUMER);
      const messages = await consumer.fetch({ max_messages: max, expires: 1000 });
      const claimed: ClaimedDelivery[] = [];
      for await (const msg of messages) {
        claimed.push(this.#hold(msg, leaseMs));
        if (msg.info.pending === 0 || claimed.length >= max) break;
      }
      messages.stop();
      return claimed;
    });
  }

  #hold(msg: JsMsg, leaseMs: number): ClaimedDelivery {
    const stored = msg.json<Stored>();
    const claim = `${msg.seq}:${randomUUID()}`;
    this.#claims.set(claim, { msg, until: Date.now() + leaseMs });
    return { ...stored, attempts: msg.info.deliveryCount - 1, claim };
  }

  #forgetExpired(): void {
    const now = Date.now();
    for (const [claim, held] of this.#claims) if (held.until < now) this.#claims.delete(claim);
  }

  #take(delivery: ClaimedDelivery): JsMsg | undefined {
    const held = this.#claims.get(delivery.claim);
    this.#claims.delete(delivery.claim);
    return held?.msg;
  }

  complete(delivery: ClaimedDelivery, applied: AppliedVersion | undefined): Promise<void> {
    return this.#call('completing a delivery', async () => {
      if (applied !== undefined) {
        const key = `applied.${delivery.integration.uid}.${keyToken(applied.recordId)}`;
        await this.#state.update<string>(key, () => applied.version);
      }
      await this.#take(delivery)?.ackAck();
    });
  }

  retry(delivery: ClaimedDelivery, retryAt: number, _error: string): Promise<void> {
    return this.#call('scheduling a retry', async () => {
      this.#take(delivery)?.nak(Math.max(0, retryAt - Date.now()));
      await this.#nc.flush();
    });
  }

  deadLetter(delivery: ClaimedDelivery, error: string): Promise<void> {
    return this.#call('dead-lettering a delivery', async () => {
      const msg = this.#take(delivery);
      if (msg === undefined) return;
      const h = headers();
      h.set('Tributary-Error', clip(error).replace(/[\r\n]+/g, ' '));
      const subject = `${this.#names.stream}.dead.${delivery.integration.uid}`;
      await this.#js.publish(subject, msg.data, {
        headers: h,
        expect: { streamName: this.#names.dead },
      });
      await msg.ackAck();
    });
  }

  redrive(integration: InboxIntegration, request: string): Promise<number> {
    return this.#call('re-driving dead letters', async () => {
      const value = clip(request);
      const outcome = { won: false };
      await this.#state.update<string>(`redrive.${integration.uid}`, (handled) => {
        outcome.won = handled !== value;
        return outcome.won ? value : undefined;
      });
      await this.#bump(integration, () => undefined);
      return outcome.won ? this.#moveDead(integration.uid) : 0;
    });
  }

  async #moveDead(uid: string): Promise<number> {
    const { stream, dead } = this.#names;
    let moved = 0;
    for (let seq = 0; ;) {
      const msg = await this.#jsm.direct.getMessage(dead, {
        seq,
        next_by_subj: `${stream}.dead.${uid}`,
      });
      if (msg === null) return moved;
      await this.#js.publish(`${stream}.in.${uid}`, msg.data, { expect: { streamName: stream } });
      await this.#jsm.streams.deleteMessage(dead, msg.seq, false);
      moved += 1;
      seq = msg.seq + 1;
    }
  }

  appliedVersion(integrationUID: string, recordId: string): Promise<string | undefined> {
    return this.#call('reading an applied version', () =>
      this.#state.read<string>(`applied.${integrationUID}.${keyToken(recordId)}`),
    );
  }

  hasDelivery(integrationUID: string, deliveryId: string): Promise<boolean> {
    return this.#call('looking up a delivery', async () => {
      const key = `seen.${integrationUID}.${keyToken(deliveryId)}`;
      return (await this.#seen.read(key)) !== undefined;
    });
  }

  stats(now: number): Promise<IntakeIntegrationStats[]> {
    return this.#call('reading stats', () =>
      collectStats(this.#jsm, this.#state, this.#names, now),
    );
  }

  async healthy(): Promise<boolean> {
    try {
      await this.#call('checking health', () => this.#jsm.getAccountInfo());
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.#nc.isClosed()) await this.#nc.drain().catch(() => this.#nc.close());
  }
}

function recordAccepted(doc: CountsDoc, delivery: InboxDelivery): void {
  doc.accepted += 1;
  if (delivery.receivedAt >= (doc.lastEventTime ?? 0)) {
    doc.lastEventTime = delivery.receivedAt;
    doc.lastEventId = delivery.id;
  }
  bumpRecent(doc, bucketOf(delivery.receivedAt), 0, delivery.receivedAt);
}
