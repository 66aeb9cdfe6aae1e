/**
 * Writes records to the destination, one idempotent upsert per record: `method` to `url` with
 * `{id}` replaced, a JSON body, and an `Idempotency-Key` derived from (integration UID, record id,
 * record version) so replaying a page, a run or a crash changes nothing at the destination.
 * A record counts as unchanged only when the destination says it had already applied the key
 * (`Idempotent-Replayed: true`, as Stripe answers); any other 409 is a conflict (docs/connectors.md).
 */
import type { z } from 'zod';
import type { Destination as DestinationSchema } from '../api/index.ts';
import { SyncError, redact } from './errors.ts';
import { authHeaders } from './http/auth.ts';
import { snippet, type HttpClient } from './http/client.ts';
import { canonicalJSON, getPath, sha256Hex, type JSONObject } from './json.ts';

/** The `spec.destination` of an Integration. */
export type Destination = z.infer<typeof DestinationSchema>;

/** What happened to one record at the destination. */
export type WriteOutcome =
  { kind: 'written' } | { kind: 'unchanged' } | { kind: 'quarantined'; reason: string };

/** The response header by which a destination says it had already applied this idempotency key. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** Quarantine reason prefix of a record the destination refused with a 409 that is no replay. */
export const CONFLICT = 'Conflict';

/** True when the answer says the key was applied before (`Idempotent-Replayed: true`, any case). */
export function isReplay(header: (name: string) => string | undefined): boolean {
  return header(REPLAYED_HEADER)?.trim().toLowerCase() === 'true';
}

/**
 * The version of a record: the value of `updatedField` when present, else `sha256:` plus the
 * hash of the record's canonical JSON (key order does not matter).
 */
export function recordVersion(record: JSONObject, updatedField: string | undefined): string {
  const updated = updatedField === undefined ? undefined : getPath(record, updatedField);
  if (typeof updated === 'string' || typeof updated === 'number') return String(updated);
  return `sha256:${sha256Hex(canonicalJSON(record))}`;
}

/** Hex SHA-256 of (integration UID, record id, record version), unambiguously encoded. */
export function idempotencyKey(integrationUID: string, id: string, version: string): string {
  return sha256Hex(JSON.stringify([integrationUID, id, version]));
}

/** The destination URL of record `id`: `{id}` replaced by the URL-encoded id. */
export function recordURL(template: string, id: string): URL {
  return new URL(template.split('{id}').join(encodeURIComponent(id)));
}

/** Options of {@link DestinationWriter}. */
export interface DestinationWriterOptions {
  destination: Destination;
  /** Client toward the destination (not rate limited by the provider's limit). */
  client: HttpClient;
  /** The Integration UID, seed of every idempotency key. */
  integrationUID: string;
  /** The value of TRIBUTARY_DESTINATION_CREDENTIALS, if any. */
  credentials: string | undefined;
}

/** Statuses whose meaning for one record the writer decides (not errors of the run). */
function isRecordStatus(status: number): boolean {
  return status >= 400 && status <= 499 && ![401, 403, 408, 429].includes(status);
}

/** Upserts records at the destination. */
export class DestinationWriter {
  readonly #options: DestinationWriterOptions;
  readonly #headers: Record<string, string>;

  /** Prepares the authentication headers; no I/O. */
  constructor(options: DestinationWriterOptions) {
    this.#options = options;
    this.#headers = authHeaders(options.destination.auth, options.credentials).headers;
  }

  /**
   * Writes `record` as `id` at `version`: a 2xx or 409 carrying `Idempotent-Replayed: true` is
   * unchanged (the key was applied before); another 2xx written; another 409 quarantined as a
   * `Conflict` (e.g. a unique constraint on another column); other per-record 4xx quarantined
   * with the status; a 404 quarantines for PATCH (the record is not there) but fails the run as
   * NotFound for PUT/POST (the URL is wrong). Throws a SyncError for everything else
   * (Authentication, retries of transient failures exhausted).
   */
  async write(record: JSONObject, id: string, version: string): Promise<WriteOutcome> {
    const { destination, client, integrationUID } = this.#options;
    const method = destination.method ?? 'PUT';
    const res = await client.request({
      method,
      url: recordURL(destination.url, id),
      headers: { ...this.#headers, 'idempotency-key': idempotencyKey(integrationUID, id, version) },
      json: record,
      passThrough: isRecordStatus,
    });
    const ok = res.status >= 200 && res.status <= 299;
    if ((ok || res.status === 409) && isReplay(res.header)) return { kind: 'unchanged' };
    if (ok) return { kind: 'written' };
    const detail = redact(snippet(res.text), client.secrets);
    if (res.status === 404 && method !== 'PATCH') {
      throw new SyncError(
        'NotFound',
        `${method} ${new URL(destination.url).origin}: destination answered 404; check destination.url`,
        { status: 404 },
      );
    }
    const answered = `destination answered ${res.status}${detail ? `: ${detail}` : ''}`;
    const reason = res.status === 409 ? `${CONFLICT}: ${answered}` : answered;
    return { kind: 'quarantined', reason: reason.slice(0, 512) };
  }
}
