/**
 * What the JetStream inbox keeps beside its streams, in KV buckets shared by every replica: the
 * seen ids (dedupe beyond the broker's minutes-long window, with the dedupe window as TTL), the
 * per-Integration counters, the last handled redrive value and the applied versions. Writes that
 * two replicas may race are compare-and-set loops on the key's revision.
 */
import type { KV } from '@nats-io/kv';
import type { InboxIntegration } from '../../api/inbox.ts';
import { firstRecentBucket } from './figures.ts';

/** One Integration's counters, as stored under `counts.<uid>`. */
export interface CountsDoc {
  namespace: string;
  name: string;
  accepted: number;
  duplicate: number;
  rejected: number;
  ignored: number;
  lastEventTime?: number;
  lastEventId?: string;
  lastRejection?: string;
  /** Recent accepted and rejected counts by minute bucket (only recent buckets kept). */
  recent: Record<string, [number, number]>;
}

/** A KV key token for any string (ids may hold characters keys do not allow). */
export function keyToken(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url') || '_';
}

/** A fresh counters document. */
export function emptyCounts(integration: InboxIntegration): CountsDoc {
  const { namespace, name } = integration;
  return { namespace, name, accepted: 0, duplicate: 0, rejected: 0, ignored: 0, recent: {} };
}

/** Adds one to the recent bucket's accepted (0) or rejected (1) count, dropping old buckets. */
export function bumpRecent(doc: CountsDoc, bucket: number, which: 0 | 1, now: number): void {
  const first = firstRecentBucket(now);
  const kept = Object.entries(doc.recent).filter(([key]) => Number(key) >= first);
  const entry = doc.recent[String(bucket)] ?? [0, 0];
  entry[which] += 1;
  doc.recent = { ...Object.fromEntries(kept), [String(bucket)]: entry };
}

const CAS_ATTEMPTS = 50;

function isConflict(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return /wrong last sequence|key exists/i.test(error.message) || code === 10071 || code === 10164;
}

/**
 * Reads `key`, applies `change` (undefined: leave it) and writes it back if nobody wrote it
 * meanwhile, retrying on a conflict. Calls on one key from this process are serialized, so only
 * other replicas cause retries. Returns what was written (or the unchanged value).
 */
export class CasStore {
  readonly #kv: KV;
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(kv: KV) {
    this.#kv = kv;
  }

  /** The JSON value of `key`, if any. */
  async read<T>(key: string): Promise<T | undefined> {
    const entry = await this.#kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    return entry.json<T>();
  }

  /** Creates `key` (value 1) unless it exists: a set-once marker. */
  async mark(key: string): Promise<void> {
    try {
      await this.#kv.create(key, '1');
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }

  /** Updates `key` with `change`; see the class comment. */
  update<T>(key: string, change: (value: T | undefined) => T | undefined): Promise<T | undefined> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#cas(key, change));
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
    return next;
  }

  async #cas<T>(key: string, change: (value: T | undefined) => T | undefined) {
    for (let attempt = 0; ; attempt += 1) {
      const entry = await this.#kv.get(key);
      const current = entry?.operation === 'PUT' ? entry.json<T>() : undefined;
      const value = change(current === undefined ? undefined : structuredClone(current));
      if (value === undefined) return current;
      try {
        if (entry === null) await this.#kv.create(key, JSON.stringify(value));
        else await this.#kv.update(key, JSON.stringify(value), entry.revision);
        return value;
      } catch (error) {
        if (!isConflict(error) || attempt >= CAS_ATTEMPTS) throw error;
      }
    }
  }

  /** Every key under `prefix.` (without the prefix). */
  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.#kv.keys(`${prefix}.>`)) {
      keys.push(key.slice(prefix.length + 1));
    }
    return keys;
  }
}
