/**
 * What both inbox engines share: the retention and "recent" windows, and the pure arithmetic of
 * the per-Integration figures (minute buckets for the recent counts, the stats row), so that
 * SQLite and JetStream report the same numbers for the same history.
 */
import type { InboxIntegration } from '../../api/inbox.ts';
import { InboxUnavailableError } from '../../api/inbox.ts';
import type { IntakeIntegrationStats } from '../../api/webhook.ts';
import { rfc3339 } from '../../lib/time.ts';

const MINUTE = 60_000;

/** Default dedupe window: done deliveries keep their id this long (Stripe retries for 3 days). */
export const DEFAULT_DEDUPE_WINDOW_MS = 7 * 24 * 60 * MINUTE;
/** The window of `recentAccepted` / `recentRejected`. */
export const RECENT_WINDOW_MS = 15 * MINUTE;
/** Width of one bucket of the recent counts. */
export const BUCKET_MS = MINUTE;
/** Longest text kept from a caller (rejection detail, error, redrive value): the stats bound. */
export const MAX_TEXT = 256;

/** The bucket a moment falls in. */
export function bucketOf(at: number): number {
  return Math.floor(at / BUCKET_MS);
}

/** True when the bucket overlaps the recent window ending at `now`. */
export function isRecent(bucket: number, now: number): boolean {
  return (bucket + 1) * BUCKET_MS > now - RECENT_WINDOW_MS;
}

/** The first bucket still recent at `now` (older buckets may be dropped). */
export function firstRecentBucket(now: number): number {
  return Math.floor((now - RECENT_WINDOW_MS) / BUCKET_MS);
}

/** `text` cut to {@link MAX_TEXT} characters. */
export function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

/** What an engine knows of one Integration, before it becomes a stats row. */
export interface Figures {
  integration: InboxIntegration;
  accepted: number;
  duplicate: number;
  rejected: number;
  ignored: number;
  pending: number;
  deadLettered: number;
  recentAccepted: number;
  recentRejected: number;
  lastEventTime?: number | undefined;
  lastEventId?: string | undefined;
  oldestPendingTime?: number | undefined;
  lastRejection?: string | undefined;
  lastHandledRedriveRequest?: string | undefined;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : rfc3339(new Date(ms)));

/** The stats row of {@link Figures} (optional fields left out when unknown). */
export function statsRow(figures: Figures): IntakeIntegrationStats {
  const { integration, lastEventTime, oldestPendingTime, ...counts } = figures;
  const row: IntakeIntegrationStats = {
    namespace: integration.namespace,
    name: integration.name,
    uid: integration.uid,
    accepted: counts.accepted,
    duplicate: counts.duplicate,
    rejected: counts.rejected,
    ignored: counts.ignored,
    pending: counts.pending,
    deadLettered: counts.deadLettered,
    recentAccepted: counts.recentAccepted,
    recentRejected: counts.recentRejected,
  };
  const optional = {
    lastEventTime: iso(lastEventTime),
    lastEventId: counts.lastEventId,
    oldestPendingTime: iso(oldestPendingTime),
    lastRejection: counts.lastRejection,
    lastHandledRedriveRequest: counts.lastHandledRedriveRequest,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(row, { [key]: value });
  }
  return row;
}

/** Stats rows in a stable order (namespace, name, uid). */
export function sortRows(rows: IntakeIntegrationStats[]): IntakeIntegrationStats[] {
  const key = (row: IntakeIntegrationStats) => `${row.namespace}\u0000${row.name}\u0000${row.uid}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The message of an unknown thrown value, without stack or cause. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `error` as an {@link InboxUnavailableError} naming the store and what failed (no payloads). */
export function unavailable(store: string, doing: string, error: unknown): InboxUnavailableError {
  if (error instanceof InboxUnavailableError) return error;
  return new InboxUnavailableError(
    `inbox ${store} unavailable while ${doing}: ${messageOf(error)}`,
  );
}
