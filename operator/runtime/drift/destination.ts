/**
 * The destination as a drift check sees it: read through its list endpoint
 * (`destination.list`, paginated like the generic HTTP provider, authenticated like its writes),
 * and written by repairs. A repair's Idempotency-Key is the sync's derivation — (integration UID,
 * id, version) — with the version qualified by this due run and what the destination held (see
 * {@link repairVersion}): the plain sync key would be answered 409 by a destination that
 * accepted it before and later lost or changed the record, so it could never repair; the
 * qualified key still makes retries and replays of one drift run idempotent.
 */
import { recordVersion, type Destination } from '../destination.ts';
import { SyncError } from '../errors.ts';
import type { JSONObject } from '../json.ts';
import type { Source } from '../providers/types.ts';

/** The destination's list endpoint as a generic HTTP source, authenticated like its writes. */
export function listSource(destination: Destination, hasCredentials: boolean): Source {
  const list = destination.list;
  if (list === undefined) {
    throw new SyncError('Configuration', 'a drift check needs spec.destination.list');
  }
  const url = new URL(list.url);
  const auth = destination.auth ?? (hasCredentials ? { type: 'bearer' as const } : undefined);
  return {
    provider: 'http',
    baseURL: url.origin,
    http: {
      path: url.pathname,
      ...(url.search === '' ? {} : { query: Object.fromEntries(url.searchParams) }),
      ...(list.recordsPath === undefined ? {} : { recordsPath: list.recordsPath }),
      ...(list.pagination === undefined ? {} : { pagination: list.pagination }),
      idField: list.idField ?? 'id',
      ...(auth === undefined ? {} : { auth }),
    },
  };
}

/**
 * The version a repair writes `record` under: the sync's record version, qualified by the due
 * run and the destination's fingerprint (`absent` for a missing record).
 */
export function repairVersion(
  record: JSONObject,
  updatedField: string | undefined,
  dueTime: string,
  destinationHash: string | undefined,
): string {
  return `${recordVersion(record, updatedField)}#repair@${dueTime}:${destinationHash ?? 'absent'}`;
}
