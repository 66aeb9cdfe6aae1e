/**
 * Creates what the JetStream inbox needs when missing, idempotently, so every replica may open it
 * at once: the work-queue stream of deliveries, the dead-letter stream, the shared durable pull
 * consumer (ack wait = lease) and the KV buckets (seen ids with the dedupe window as TTL; state).
 */
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_DEDUPE_WINDOW_MS } from './figures.ts';
import type { StreamNames } from './jetstream-stats.ts';

/** The durable consumer every replica claims from. */
export const CONSUMER = 'workers';
/** The broker's own dedupe window (Nats-Msg-Id): covers racing replicas, not Stripe's days. */
const BROKER_DUPLICATE_WINDOW_MS = 2 * 60_000;

/** What {@link provision} needs. */
export interface ProvisionOptions {
  stream: string;
  timeoutMs: number;
  replicas?: number | undefined;
  dedupeWindowMs?: number | undefined;
  leaseMs?: number | undefined;
  duplicateWindowMs?: number | undefined;
}

/** The clients and buckets of an opened inbox. */
export interface Parts {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: StreamNames;
  seen: KV;
  state: KV;
  leaseMs: number;
}

/** Opens the clients and creates the streams, consumer and buckets when missing. */
export async function provision(nc: NatsConnection, options: ProvisionOptions): Promise<Parts> {
  const { stream, timeoutMs } = options;
  const replicas = options.replicas ?? 1;
  const names: StreamNames = { stream, dead: `${stream}_DEAD` };
  const js = jetstream(nc, { timeout: timeoutMs });
  const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
  const common = { storage: StorageType.File, num_replicas: replicas, allow_direct: true };
  await ensureStream(jsm, {
    ...common,
    name: stream,
    subjects: [`${stream}.in.>`],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: nanos(options.duplicateWindowMs ?? BROKER_DUPLICATE_WINDOW_MS),
  });
  await ensureStream(jsm, { ...common, name: names.dead, subjects: [`${stream}.dead.>`] });
  const leaseMs = options.leaseMs ?? 60_000;
  await jsm.consumers
    .add(stream, {
      durable_name: CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(leaseMs),
      max_deliver: -1,
      filter_subject: `${stream}.in.>`,
    })
    .catch(async (error: unknown) => {
      // Another replica created it with another lease: take it as it is.
      if ((await jsm.consumers.info(stream, CONSUMER).catch(() => undefined)) === undefined)
        throw error;
    });
  const kvm = new Kvm(js);
  const ttl = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const seen = await kvm.create(`${stream}_seen`, {
    history: 1,
    ttl,
    replicas,
    storage: StorageType.File,
  });
  const state = await kvm.create(`${stream}_state`, {
    history: 1,
    replicas,
    storage: StorageType.File,
  });
  return { js, jsm, names, seen, state, leaseMs };
}

async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
) {
  const existing = await jsm.streams.info(config.name).catch(() => undefined);
  if (existing === undefined) await jsm.streams.add(config);
}
