/**
 * The SQLite inbox's tables and statements. One row per delivery, keyed (uid, id) so the primary
 * key is the dedupe; `ready_at` is when a row can be claimed: its due time while pending, its
 * lease's end while claimed. Done rows keep only their key (the body is dropped at once) until the
 * dedupe window ends.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Creates the tables (idempotent). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS integrations (
  uid TEXT PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL,
  accepted INTEGER NOT NULL DEFAULT 0, duplicate INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0, ignored INTEGER NOT NULL DEFAULT 0,
  last_event_time INTEGER, last_event_id TEXT, last_rejection TEXT, last_redrive TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY, uid TEXT NOT NULL, id TEXT NOT NULL,
  scheme TEXT NOT NULL, event_type TEXT NOT NULL, received_at INTEGER NOT NULL, body TEXT,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, ready_at INTEGER NOT NULL,
  token TEXT, done_at INTEGER, last_error TEXT,
  UNIQUE (uid, id)
) STRICT;
CREATE INDEX IF NOT EXISTS deliveries_ready ON deliveries (ready_at)
  WHERE state IN ('pending', 'claimed');
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (uid, state, received_at);
CREATE INDEX IF NOT EXISTS deliveries_done ON deliveries (done_at) WHERE state = 'done';
CREATE TABLE IF NOT EXISTS recent (
  uid TEXT NOT NULL, bucket INTEGER NOT NULL,
  accepted INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (uid, bucket)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied (
  uid TEXT NOT NULL, record_id TEXT NOT NULL, version TEXT NOT NULL,
  PRIMARY KEY (uid, record_id)
) STRICT, WITHOUT ROWID;
`;

const SQL = {
  heartbeat: `INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat', ?)`,
  integration: `INSERT INTO integrations (uid, namespace, name) VALUES (?, ?, ?)
    ON CONFLICT (uid) DO UPDATE SET namespace = excluded.namespace, name = excluded.name`,
  insert: `INSERT INTO deliveries (uid, id, scheme, event_type, received_at, body, state, ready_at)
    VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (uid, id) DO NOTHING`,
  accepted: `UPDATE integrations SET accepted = accepted + 1,
    last_event_time = max(coalesce(last_event_time, 0), ?1),
    last_event_id = CASE WHEN ?1 >= coalesce(last_event_time, 0) THEN ?2 ELSE last_event_id END
    WHERE uid = ?3`,
  duplicate: `UPDATE integrations SET duplicate = duplicate + 1 WHERE uid = ?`,
  rejected: `UPDATE integrations SET rejected = rejected + 1, last_rejection = ? WHERE uid = ?`,
  ignored: `UPDATE integrations SET ignored = ignored + 1 WHERE uid = ?`,
  recentAccepted: `INSERT INTO recent (uid, bucket, accepted) VALUES (?, ?, 1)
    ON CONFLICT (uid, bucket) DO UPDATE SET accepted = accepted + 1`,
  recentRejected: `INSERT INTO recent (uid, bucket, rejected) VALUES (?, ?, 1)
    ON CONFLICT (uid, bucket) DO UPDATE SET rejected = rejected + 1`,
  due: `SELECT seq, uid, id, scheme, event_type, received_at, body, attempts FROM deliveries
    WHERE state IN ('pending', 'claimed') AND ready_at <= ? ORDER BY received_at, seq LIMIT ?`,
  lease: `UPDATE deliveries SET state = 'claimed', ready_at = ?, token = ?, attempts = attempts + 1
    WHERE seq = ?`,
  names: `SELECT namespace, name FROM integrations WHERE uid = ?`,
  complete: `UPDATE deliveries SET state = 'done', body = NULL, token = NULL, last_error = NULL,
    done_at = ? WHERE seq = ? AND token = ?`,
  applied: `INSERT INTO applied (uid, record_id, version) VALUES (?, ?, ?)
    ON CONFLICT (uid, record_id) DO UPDATE SET version = excluded.version`,
  appliedVersion: `SELECT version FROM applied WHERE uid = ? AND record_id = ?`,
  hasDelivery: `SELECT 1 AS found FROM deliveries WHERE uid = ? AND id = ?`,
  retry: `UPDATE deliveries SET state = 'pending', ready_at = ?, token = NULL, last_error = ?
    WHERE seq = ? AND token = ?`,
  dead: `UPDATE deliveries SET state = 'dead', token = NULL, last_error = ?
    WHERE seq = ? AND token = ?`,
  lastRedrive: `SELECT last_redrive FROM integrations WHERE uid = ?`,
  redrive: `UPDATE deliveries SET state = 'pending', ready_at = ?, attempts = 0
    WHERE uid = ? AND state = 'dead'`,
  setRedrive: `UPDATE integrations SET last_redrive = ? WHERE uid = ?`,
  pruneDone: `DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries
    WHERE state = 'done' AND done_at < ? LIMIT 10000)`,
  pruneRecent: `DELETE FROM recent WHERE bucket < ?`,
  stats: `SELECT i.uid, i.namespace, i.name, i.accepted, i.duplicate, i.rejected, i.ignored,
    i.last_event_time, i.last_event_id, i.last_rejection, i.last_redrive,
    (SELECT count(*) FROM deliveries d WHERE d.uid = i.uid AND d.state IN ('pending', 'claimed'))
      AS pending,
    (SELECT min(received_at) FROM deliveries d
      WHERE d.uid = i.uid AND d.state IN ('pending', 'claimed')) AS oldest,
    (SELECT count(*) FROM deliveries d WHERE d.uid = i.uid AND d.state = 'dead') AS dead,
    (SELECT coalesce(sum(accepted), 0) FROM recent r WHERE r.uid = i.uid AND r.bucket >= ?1)
      AS recent_accepted,
    (SELECT coalesce(sum(rejected), 0) FROM recent r WHERE r.uid = i.uid AND r.bucket >= ?1)
      AS recent_rejected
    FROM integrations i`,
} as const;

/** The prepared statements, by name. */
export type Statements = Record<keyof typeof SQL, StatementSync>;

/** Prepares every statement once. */
export function prepare(db: DatabaseSync): Statements {
  const entries = Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)] as const);
  return Object.fromEntries(entries) as Statements;
}
