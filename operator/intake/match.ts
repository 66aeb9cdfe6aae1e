/**
 * `POST /match` on the intake's health port, for the sync pass's gap detection
 * (operator/runtime/gaps): body `{uid, records: [{id, version}], deliveries?: [ids]}` (at most
 * 500 of each) → `200 {matched: [ids], stored?: [ids]}`: `matched`, the records for which this
 * store recorded an applied version that is not older than the one the pass read; `stored` (only
 * when `deliveries` was sent), the delivery ids this store holds (the Stripe events-log check). 400 on a bad body, 405 for another method, 503 while the
 * store is unavailable (the pass then reports the intake as unavailable).
 */
import { z } from 'zod';
import { InboxUnavailableError, type Inbox } from '../api/index.ts';
import { isNewerVersion } from '../lib/versions.ts';

/** Records one request may ask about. */
export const MAX_MATCH_RECORDS = 500;

/** Store lookups in flight at once for one request. */
const LOOKUPS_IN_FLIGHT = 16;

/** The body of `POST /match`. */
export const MatchRequest = z.strictObject({
  uid: z.string().min(1).max(128),
  records: z
    .array(z.strictObject({ id: z.string().min(1).max(256), version: z.string().min(1).max(256) }))
    .max(MAX_MATCH_RECORDS)
    .default([]),
  deliveries: z.array(z.string().min(1).max(256)).max(MAX_MATCH_RECORDS).optional(),
});
/** The body of `POST /match`. */
export type MatchRequest = z.infer<typeof MatchRequest>;

const JSON_TYPE = 'application/json';

/** Answers `POST /match` with `body` (the raw request body) from `inbox`. */
export async function matchRoute(inbox: Inbox, body: unknown): Promise<[number, string, string]> {
  const parsed = MatchRequest.safeParse(parseBody(body));
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    const where = problem?.path.join('.') ?? '';
    const message = `bad match request: ${where ? `${where}: ` : ''}${problem?.message ?? 'invalid'}`;
    return [400, JSON.stringify({ error: message }), JSON_TYPE];
  }
  try {
    const matched = await matchedIds(inbox, parsed.data);
    const { uid, deliveries } = parsed.data;
    const stored =
      deliveries === undefined ? {} : { stored: await storedIds(inbox, uid, deliveries) };
    return [200, JSON.stringify({ matched, ...stored }), JSON_TYPE];
  } catch (error) {
    if (error instanceof InboxUnavailableError)
      return [503, JSON.stringify({ error: 'inbox unavailable' }), JSON_TYPE];
    throw error;
  }
}

/** The route as the health server calls it: POST only. */
export function matchHandler(
  inbox: Inbox,
): (url: URL, body: Buffer | undefined, method: string) => Promise<[number, string, string?]> {
  return (_url, body, method) =>
    method === 'POST'
      ? matchRoute(inbox, body)
      : Promise.resolve([405, 'method not allowed\n', 'text/plain; charset=utf-8']);
}

/** The ids of `request.records` whose applied version is not older than the one given. */
async function matchedIds(inbox: Inbox, request: MatchRequest): Promise<string[]> {
  const { uid, records } = request;
  const matched: string[] = [];
  for (let at = 0; at < records.length; at += LOOKUPS_IN_FLIGHT) {
    const slice = records.slice(at, at + LOOKUPS_IN_FLIGHT);
    const applied = await Promise.all(slice.map(({ id }) => inbox.appliedVersion(uid, id)));
    slice.forEach(({ id, version }, i) => {
      const seen = applied[i];
      if (seen !== undefined && !isNewerVersion(version, seen)) matched.push(id);
    });
  }
  return matched;
}

/** The ids of `deliveries` this store holds for `uid`. */
async function storedIds(
  inbox: Inbox,
  uid: string,
  deliveries: readonly string[],
): Promise<string[]> {
  const stored: string[] = [];
  for (let at = 0; at < deliveries.length; at += LOOKUPS_IN_FLIGHT) {
    const slice = deliveries.slice(at, at + LOOKUPS_IN_FLIGHT);
    const found = await Promise.all(slice.map((id) => inbox.hasDelivery(uid, id)));
    slice.forEach((id, i) => {
      if (found[i] === true) stored.push(id);
    });
  }
  return stored;
}

/** A Buffer or string body as JSON; anything else as is (an object already parsed). */
function parseBody(body: unknown): unknown {
  if (!(typeof body === 'string' || Buffer.isBuffer(body))) return body;
  try {
    return JSON.parse(body.toString()) as unknown;
  } catch {
    return undefined;
  }
}
