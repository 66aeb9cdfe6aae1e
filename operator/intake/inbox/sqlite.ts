/**
 * The embedded inbox: one SQLite file on the intake's volume (`node:sqlite`, WAL,
 * `synchronous=FULL`), so `put` returns only after its transaction is committed to disk. Every
 * SQLite failure (read-only file, disk full, closed database) becomes an InboxUnavailableError.
 */
import { randomUUID } from 'node:crypto';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import type {
  AppliedVersion,
  ClaimedDelivery,
  Inbox,
  InboxDelivery,
  InboxIntegration,
  PutOutcome,
  RejectKind,
} from '../../api/inbox.ts';
import type { IntakeIntegrationStats, WebhookScheme } from '../../api/webhook.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import {
  DEFAULT_DEDUPE_WINDOW_MS,
  bucketOf,
  clip,
  firstRecentBucket,
  sortRows,
  statsRow,
  unavailable,
} from './figures.ts';
import { SCHEMA, prepare, type Statements } from './sqlite-schema.ts';

/** Options of {@link openSqliteInbox}. */
export interface SqliteInboxOptions {
  /** The database file (created if missing, with its -wal and -shm beside it). */
  path: string;
  /** How long a done delivery's id is kept for dedupe, ms. Default 7 days. */
  dedupeWindowMs?: number;
  /** How often `claim` prunes expired rows, ms. Default 5 minutes. */
  pruneEveryMs?: number;
  /** Opens the file read-only (inspection; every write then throws InboxUnavailableError). */
  readOnly?: boolean;
  /** Time of `complete` (done_at) and of the heartbeat. Default the system clock. */
  clock?: Clock;
}

const PRUNE_EVERY_MS = 5 * 60_000;

type Row = Record<string, SQLInputValue>;

const str = (value: SQLInputValue | undefined) => (typeof value === 'string' ? value : undefined);
const num = (value: SQLInputValue | undefined) =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;

/** Opens (creating when missing) the inbox at `options.path`. */
export function openSqliteInbox(options: SqliteInboxOptions): Promise<Inbox> {
  try {
    return Promise.resolve(SqliteInbox.open(options));
  } catch (error) {
    return Promise.reject(unavailable(`sqlite:${options.path}`, 'opening', error));
  }
}

class SqliteInbox implements Inbox {
  readonly engine = 'sqlite' as const;
  readonly store: string;
  readonly #db: DatabaseSync;
  readonly #sql: Statements;
  readonly #options: SqliteInboxOptions;
  readonly #clock: Clock;
  #prunedAt = Number.NEGATIVE_INFINITY;

  private constructor(db: DatabaseSync, store: string, options: SqliteInboxOptions) {
    this.#db = db;
    this.#sql = prepare(db);
    this.store = store;
    this.#options = options;
    this.#clock = options.clock ?? systemClock();
  }

  static open(options: SqliteInboxOptions): SqliteInbox {
    const readOnly = options.readOnly === true;
    const db = new DatabaseSync(options.path, { readOnly, timeout: 5000 });
    try {
      if (!readOnly) {
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = FULL');
        db.exec(SCHEMA);
        db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('store', ?)`).run(
          `sqlite:${randomUUID()}`,
        );
      }
      const row = db.prepare(`SELECT value FROM meta WHERE key = 'store'`).get();
      const store = str(row?.value);
      if (store === undefined) throw new Error(`${options.path} holds no inbox`);
      return new SqliteInbox(db, store, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Runs `work` in one write transaction; any failure rolls back and becomes unavailable. */
  #write<T>(doing: string, work: () => T): Promise<T> {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = work();
        this.#db.exec('COMMIT');
        return Promise.resolve(result);
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    } catch (error) {
      return Promise.reject(unavailable(this.store, doing, error));
    }
  }

  #read<T>(doing: string, work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(unavailable(this.store, doing, error));
    }
  }

  #touch(integration: InboxIntegration): void {
    this.#sql.integration.run(integration.uid, integration.namespace, integration.name);
  }

  put(delivery: InboxDelivery): Promise<PutOutcome> {
    return this.#write('storing a delivery', () => {
      const { integration: i } = delivery;
      this.#touch(i);
      const inserted = this.#sql.insert.run(
        ...[i.uid, delivery.id, delivery.scheme, delivery.eventType],
        ...[delivery.receivedAt, delivery.body, delivery.receivedAt],
      );
      if (inserted.changes === 0) {
        this.#sql.duplicate.run(i.uid);
        return 'duplicate';
      }
      this.#sql.accepted.run(delivery.receivedAt, delivery.id, i.uid);
      this.#sql.recentAccepted.run(i.uid, bucketOf(delivery.receivedAt));
      return 'stored';
    });
  }

  count(integration: InboxIntegration, kind: RejectKind, detail: string, now: number) {
    return this.#write(`counting a delivery ${kind}`, () => {
      this.#touch(integration);
      if (kind === 'ignored') {
        this.#sql.ignored.run(integration.uid);
        return;
      }
      this.#sql.rejected.run(clip(detail), integration.uid);
      this.#sql.recentRejected.run(integration.uid, bucketOf(now));
    });
  }

  claim(max: number, now: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.#write('claiming deliveries', () => {
      this.#prune(now);
      const rows = this.#sql.due.all(now, max);
      return rows.map((row) => this.#lease(row, now + leaseMs));
    });
  }

  #lease(row: Row, until: number): ClaimedDelivery {
    const token = randomUUID();
    this.#sql.lease.run(until, token, row.seq ?? null);
    const uid = str(row.uid) ?? '';
    const names = this.#sql.names.get(uid);
    return {
      integration: { uid, namespace: str(names?.namespace) ?? '', name: str(names?.name) ?? '' },
      id: str(row.id) ?? '',
      scheme: str(row.scheme) as WebhookScheme,
      eventType: str(row.event_type) ?? '',
      receivedAt: num(row.received_at) ?? 0,
      body: str(row.body) ?? '',
      attempts: num(row.attempts) ?? 0,
      claim: `${String(num(row.seq))}:${token}`,
    };
  }

  #prune(now: number): void {
    const every = this.#options.pruneEveryMs ?? PRUNE_EVERY_MS;
    if (now - this.#prunedAt < every) return;
    this.#prunedAt = now;
    this.#sql.pruneDone.run(now - (this.#options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS));
    this.#sql.pruneRecent.run(firstRecentBucket(now));
  }

  complete(delivery: ClaimedDelivery, applied: AppliedVersion | undefined): Promise<void> {
    const [seq, token] = parseClaim(delivery.claim);
    return this.#write('completing a delivery', () => {
      this.#sql.complete.run(this.#clock.now(), seq, token);
      if (applied !== undefined) {
        this.#sql.applied.run(delivery.integration.uid, applied.recordId, applied.version);
      }
    });
  }

  retry(delivery: ClaimedDelivery, retryAt: number, error: string): Promise<void> {
    const [seq, token] = parseClaim(delivery.claim);
    return this.#write('scheduling a retry', () => {
      this.#sql.retry.run(retryAt, clip(error), seq, token);
    });
  }

  deadLetter(delivery: ClaimedDelivery, error: string): Promise<void> {
    const [seq, token] = parseClaim(delivery.claim);
    return this.#write('dead-lettering a delivery', () => {
      this.#sql.dead.run(clip(error), seq, token);
    });
  }

  redrive(integration: InboxIntegration, request: string): Promise<number> {
    return this.#write('re-driving dead letters', () => {
      this.#touch(integration);
      const handled = str(this.#sql.lastRedrive.get(integration.uid)?.last_redrive);
      if (handled === clip(request)) return 0;
      const moved = this.#sql.redrive.run(this.#clock.now(), integration.uid).changes;
      this.#sql.setRedrive.run(clip(request), integration.uid);
      return Number(moved);
    });
  }

  appliedVersion(integrationUID: string, recordId: string): Promise<string | undefined> {
    return this.#read('reading an applied version', () =>
      str(this.#sql.appliedVersion.get(integrationUID, recordId)?.version),
    );
  }

  hasDelivery(integrationUID: string, deliveryId: string): Promise<boolean> {
    return this.#read('looking up a delivery', () =>
      Boolean(this.#sql.hasDelivery.get(integrationUID, deliveryId)),
    );
  }

  stats(now: number): Promise<IntakeIntegrationStats[]> {
    return this.#read('reading stats', () =>
      sortRows(this.#sql.stats.all(firstRecentBucket(now)).map(toStats)),
    );
  }

  async healthy(): Promise<boolean> {
    try {
      await this.#write('checking health', () => {
        this.#sql.heartbeat.run(String(this.#clock.now()));
      });
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

function parseClaim(claim: string): [number, string] {
  const at = claim.indexOf(':');
  return [Number(claim.slice(0, at)), claim.slice(at + 1)];
}

function toStats(row: Row): IntakeIntegrationStats {
  return statsRow({
    integration: {
      uid: str(row.uid) ?? '',
      namespace: str(row.namespace) ?? '',
      name: str(row.name) ?? '',
    },
    accepted: num(row.accepted) ?? 0,
    duplicate: num(row.duplicate) ?? 0,
    rejected: num(row.rejected) ?? 0,
    ignored: num(row.ignored) ?? 0,
    pending: num(row.pending) ?? 0,
    deadLettered: num(row.dead) ?? 0,
    recentAccepted: num(row.recent_accepted) ?? 0,
    recentRejected: num(row.recent_rejected) ?? 0,
    lastEventTime: num(row.last_event_time),
    lastEventId: str(row.last_event_id),
    oldestPendingTime: num(row.oldest),
    lastRejection: str(row.last_rejection),
    lastHandledRedriveRequest: str(row.last_redrive),
  });
}
