/**
 * The platform API Tributary writes to. `PUT|POST|PATCH|DELETE /{collection}/{id}` with an
 * `Idempotency-Key`: the first use of a key changes state ("applied in effect"), a repeated key
 * answers 409 (or 200) with `Idempotent-Replayed: true` and changes nothing. In unique-constraint
 * mode (`unique.ts`) a record sharing a field's value with another id is refused with a 409
 * without that header: a conflict, not a replay. It counts raw write
 * requests and effective applies separately, per key and per record, so tests can assert
 * exactly-once effect. `GET /{collection}?limit=&cursor=` lists for drift checks; direct
 * manipulation (insert/alter/remove) changes stored records without counting as writes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { decodeCursor, encodeCursor, limitParam } from './provider.ts';
import {
  ControlError,
  deferErrors,
  headerValue,
  json,
  parseJsonBody,
  SimulatorServer,
  type Endpoint,
  type ErrorKind,
  type SimRequest,
  type SimResponse,
  type SimulatorOptions,
  type SimulatorStats,
} from './server.ts';
import { UniqueIndex, uniqueConstraintSchema, type UniqueConstraint } from './unique.ts';

export type { UniqueConstraint } from './unique.ts';

/** A write a rejection predicate inspects. */
export interface DestinationWrite {
  collection: string;
  id: string;
  method: string;
  body: Record<string, unknown> | undefined;
}

/** How a repeated idempotency key is answered. */
export type DuplicateKeyMode = 'conflict' | 'replay';

/** Options of {@link DestinationSimulator}. */
export interface DestinationSimulatorOptions extends SimulatorOptions {
  /** Bearer token required on API requests; none when unset. */
  token?: string;
  /** `conflict`: 409 with a duplicate-key body; `replay`: 200 with the first answer. Both carry `Idempotent-Replayed: true`. Default `conflict`. */
  onDuplicateKey?: DuplicateKeyMode;
  /** Writes without an `Idempotency-Key` answer 400 when true. Default false (they apply). */
  requireIdempotencyKey?: boolean;
  /** Records (by id, any collection) whose writes are rejected; see {@link DestinationSimulator.rejectIds}. */
  reject?: { ids: string[]; status?: number; reason?: string };
  /** Unique-constraint mode from the start; see {@link DestinationSimulator.setUniqueConstraint}. */
  unique?: UniqueConstraint;
  /** Rejects a write when it returns a reason (422). In-process only. */
  rejectWhen?: (write: DestinationWrite) => string | undefined;
}

/** What the destination knows about one idempotency key. */
export interface KeyRecord {
  collection: string;
  id: string;
  method: string;
  /** Requests that carried the key (reached processing). */
  received: number;
  /** Times the key changed state: 1 (the first request), by construction. */
  applied: number;
  /** Later requests with the key whose body differed from the first one. */
  differentBody: number;
}

/** Destination counters, under `destination` in stats. */
export interface DestinationCounters {
  /** Raw write requests (PUT/POST/PATCH/DELETE on a record), faulted ones included. */
  writesReceived: number;
  writesByMethod: Record<string, number>;
  /** Writes that changed state (first use of a key, or a write without a key). */
  applied: number;
  /** Writes whose key had already been applied (409 or replayed). */
  duplicates: number;
  /** Duplicates whose body differed from the key's first request (a key derivation bug). */
  keyReusedWithDifferentBody: number;
  /** Writes refused by a rejection rule. */
  rejected: number;
  /** Writes refused by the unique constraint (409 without `Idempotent-Replayed`). */
  conflicts: number;
  /** Writes refused as malformed (bad JSON, missing key when required). */
  invalid: number;
  /** Writes applied without an Idempotency-Key. */
  unkeyed: number;
}

/** Stats of the destination. */
export interface DestinationStats extends SimulatorStats {
  destination: DestinationCounters & {
    /** Distinct idempotency keys applied. */
    keys: number;
    /** Records stored now, all collections. */
    recordsStored: number;
    /** Records stored now, per collection. */
    byCollection: Record<string, number>;
    /** Records (collection/id) applied in effect more than once. */
    recordsAppliedMoreThanOnce: number;
  };
}

const recordOpSchema = z.strictObject({
  op: z.enum(['put', 'patch', 'delete']),
  collection: z.string().min(1),
  id: z.string().min(1),
  body: z.record(z.string(), z.unknown()).optional(),
});

const rejectSchema = z.strictObject({
  ids: z.array(z.string()),
  status: z.number().int().min(400).max(499).optional(),
  reason: z.string().optional(),
});

const configSchema = z.strictObject({ onDuplicateKey: z.enum(['conflict', 'replay']) });

const listCursorSchema = z.object({ a: z.string(), p: z.number().int().positive() });

type Stored = Record<string, unknown>;

interface KeyState extends KeyRecord {
  bodyHash: string;
  firstResponse: SimResponse;
}

/** The destination simulator. */
export class DestinationSimulator extends SimulatorServer {
  readonly #token: string | undefined;
  readonly #requireKey: boolean;
  readonly #rejectWhen: ((write: DestinationWrite) => string | undefined) | undefined;
  #duplicateMode: DuplicateKeyMode;
  #collections = new Map<string, Map<string, Stored>>();
  #sortedIds = new Map<string, string[]>();
  #keys = new Map<string, KeyState>();
  #appliesByRecord = new Map<string, number>();
  #rejections = new Map<string, { status: number; reason: string }>();
  #unique: UniqueIndex | undefined;
  #counters = emptyCounters();

  /** Stores options; nothing listens until `start`. */
  constructor(options: DestinationSimulatorOptions = {}) {
    super(options);
    this.#token = options.token;
    this.#requireKey = options.requireIdempotencyKey ?? false;
    this.#rejectWhen = options.rejectWhen;
    this.#duplicateMode = options.onDuplicateKey ?? 'conflict';
    if (options.reject !== undefined) this.rejectIds(options.reject.ids, options.reject);
    if (options.unique !== undefined) this.setUniqueConstraint(options.unique);
  }

  /**
   * Unique-constraint mode: a write (PUT/POST/PATCH) whose resulting record has the same
   * non-null value of `field` as a stored record of another id in the collection (every
   * collection, or only `collection`) answers 409 without `Idempotent-Replayed`, changes nothing
   * and does not consume its key. `undefined` switches it off.
   */
  setUniqueConstraint(constraint: UniqueConstraint | undefined): void {
    this.#unique =
      constraint === undefined
        ? undefined
        : new UniqueIndex(
            { field: constraint.field, collection: constraint.collection },
            [...this.#collections].map(([collection, store]) => [collection, store.entries()]),
          );
  }

  /** Switches how repeated idempotency keys are answered. */
  setDuplicateKeyMode(mode: DuplicateKeyMode): void {
    this.#duplicateMode = mode;
  }

  /** Rejects writes of these record ids (any collection) with `status` (default 422) and `reason`. */
  rejectIds(ids: Iterable<string>, rule: { status?: number; reason?: string } = {}): void {
    for (const id of ids) {
      this.#rejections.set(id, {
        status: rule.status ?? 422,
        reason: rule.reason ?? 'rejected by the destination',
      });
    }
  }

  /** Stops rejecting (these ids, or every id). */
  clearRejections(ids?: Iterable<string>): void {
    if (ids === undefined) this.#rejections.clear();
    else for (const id of ids) this.#rejections.delete(id);
  }

  /** The stored record, if any. */
  get(collection: string, id: string): Stored | undefined {
    const stored = this.#collections.get(collection)?.get(id);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  /** Every stored record of `collection`, by ascending id. */
  records(collection: string): Stored[] {
    const store = this.#collections.get(collection);
    return this.#sorted(collection).map((id) => structuredClone(store?.get(id) ?? {}));
  }

  /** Collections holding records. */
  collections(): string[] {
    return [...this.#collections.keys()].filter((c) => (this.#collections.get(c)?.size ?? 0) > 0);
  }

  /** Stores a record directly (drift setup); not a write: no counter changes. */
  insert(collection: string, id: string, body: Stored): void {
    this.#store(collection, id, { id, ...body });
  }

  /** Shallow-merges `patch` into a stored record directly; not a write. Throws if absent. */
  alter(collection: string, id: string, patch: Stored): void {
    const stored = this.#collections.get(collection)?.get(id);
    if (stored === undefined) throw new ControlError(404, `no record ${collection}/${id}`);
    this.#store(collection, id, { id, ...stored, ...patch });
  }

  /** Deletes a stored record directly; not a write. Returns whether it existed. */
  remove(collection: string, id: string): boolean {
    this.#unique?.removed(collection, id, this.#collections.get(collection)?.get(id));
    const existed = this.#collections.get(collection)?.delete(id) ?? false;
    if (existed) this.#sortedIds.delete(collection);
    return existed;
  }

  /** How many times writes to this record changed state. */
  appliesFor(collection: string, id: string): number {
    return this.#appliesByRecord.get(`${collection}/${id}`) ?? 0;
  }

  /** What the destination knows about an idempotency key, if it was applied. */
  keyRecord(key: string): KeyRecord | undefined {
    const state = this.#keys.get(key);
    if (state === undefined) return undefined;
    const { collection, id, method, received, applied, differentBody } = state;
    return { collection, id, method, received, applied, differentBody };
  }

  /** Every applied key and per-record effective applies (also at `GET /__control/writes`). */
  writes(): { keys: Record<string, KeyRecord>; appliesByRecord: Record<string, number> } {
    const keys: Record<string, KeyRecord> = {};
    for (const key of this.#keys.keys()) {
      const record = this.keyRecord(key);
      if (record !== undefined) keys[key] = record;
    }
    return { keys, appliesByRecord: Object.fromEntries(this.#appliesByRecord) };
  }

  override stats(): DestinationStats {
    const byCollection: Record<string, number> = {};
    let recordsStored = 0;
    for (const [collection, store] of this.#collections) {
      if (store.size === 0) continue;
      byCollection[collection] = store.size;
      recordsStored += store.size;
    }
    let recordsAppliedMoreThanOnce = 0;
    for (const applies of this.#appliesByRecord.values())
      if (applies > 1) recordsAppliedMoreThanOnce += 1;
    return {
      ...super.stats(),
      destination: {
        ...structuredClone(this.#counters),
        keys: this.#keys.size,
        recordsStored,
        byCollection,
        recordsAppliedMoreThanOnce,
      },
    };
  }

  protected override resetState(keepData: boolean): void {
    this.#counters = emptyCounters();
    if (keepData) return;
    this.#collections = new Map();
    this.#sortedIds = new Map();
    this.#keys = new Map();
    this.#appliesByRecord = new Map();
    this.#rejections = new Map();
    this.#unique = undefined;
  }

  protected override recordedHeaders(): readonly string[] {
    return [];
  }

  protected override errorResponse(kind: ErrorKind, status: number, message: string): SimResponse {
    return json(status, { error: { code: kind, message } });
  }

  protected override control(req: SimRequest, name: string): SimResponse | undefined {
    switch (`${req.method} ${name}`) {
      case 'GET writes':
        return json(200, this.writes());
      case 'GET records': {
        const collection = req.url.searchParams.get('collection');
        if (collection === null) return json(200, { collections: this.collections() });
        return json(200, { items: this.records(collection) });
      }
      case 'POST records':
        return json(200, { results: this.#applyOps(parseJsonBody(req)) });
      case 'POST reject': {
        const rule = rejectSchema.parse(parseJsonBody(req));
        this.rejectIds(rule.ids, rule);
        return json(200, { rejecting: [...this.#rejections.keys()] });
      }
      case 'DELETE reject':
        this.clearRejections();
        return json(200, { rejecting: [] });
      case 'POST unique':
        this.setUniqueConstraint(uniqueConstraintSchema.parse(parseJsonBody(req)));
        return json(200, { unique: this.#unique?.constraint ?? null });
      case 'DELETE unique':
        this.setUniqueConstraint(undefined);
        return json(200, { unique: null });
      case 'POST config':
        this.setDuplicateKeyMode(configSchema.parse(parseJsonBody(req)).onDuplicateKey);
        return json(200, { onDuplicateKey: this.#duplicateMode });
      default:
        return undefined;
    }
  }

  protected override endpoint(req: SimRequest): Endpoint {
    const parts = req.url.pathname.split('/').slice(1).map(decodeSegment);
    const [collection, id] = parts;
    if (collection === undefined || collection === '' || parts.length > 2 || id === '') {
      return { route: `${req.method} (unmatched)`, respond: () => this.#notFound(req) };
    }
    if (id === undefined) {
      if (req.method !== 'GET')
        return { route: `${req.method} (unmatched)`, respond: () => this.#notFound(req) };
      const page = deferErrors(() => this.#listPage(collection, req.url.searchParams));
      return {
        route: `GET /${collection}`,
        ...(page instanceof ControlError ? {} : { page: page.number }),
        respond: () => {
          this.#authenticate(req);
          if (page instanceof ControlError) throw page;
          return json(200, { items: page.items, next_cursor: page.next ?? null });
        },
      };
    }
    const route = `${req.method} /${collection}/:id`;
    if (req.method === 'GET') {
      return {
        route,
        respond: () => {
          this.#authenticate(req);
          const stored = this.get(collection, id);
          return stored === undefined ? this.#notFound(req) : json(200, stored);
        },
      };
    }
    if (!['PUT', 'POST', 'PATCH', 'DELETE'].includes(req.method))
      return { route, respond: () => json(405, { error: { code: 'methodNotAllowed' } }) };
    this.#counters.writesReceived += 1;
    this.#counters.writesByMethod[req.method] =
      (this.#counters.writesByMethod[req.method] ?? 0) + 1;
    return { route, write: true, respond: () => this.#write(req, collection, id) };
  }

  #write(req: SimRequest, collection: string, id: string): SimResponse {
    this.#authenticate(req);
    const body = req.method === 'DELETE' ? undefined : this.#parseRecordBody(req);
    const key = headerValue(req.headers, 'idempotency-key');
    if (key === undefined && this.#requireKey) {
      this.#counters.invalid += 1;
      throw new ControlError(400, 'an Idempotency-Key header is required');
    }
    const bodyHash = createHash('sha1').update(req.body).digest('hex');
    const previous = key === undefined ? undefined : this.#keys.get(key);
    if (previous !== undefined) return this.#duplicate(key ?? '', previous, bodyHash);
    const rejection = this.#rejectionOf({ collection, id, method: req.method, body });
    if (rejection !== undefined) {
      this.#counters.rejected += 1;
      return json(rejection.status, {
        error: { code: 'rejected', message: rejection.reason, id },
      });
    }
    const conflict = this.#uniqueConflict(req.method, collection, id, body);
    if (conflict !== undefined) return conflict;
    const response = this.#apply(req.method, collection, id, body);
    this.#counters.applied += 1;
    const recordKey = `${collection}/${id}`;
    this.#appliesByRecord.set(recordKey, (this.#appliesByRecord.get(recordKey) ?? 0) + 1);
    if (key === undefined) this.#counters.unkeyed += 1;
    else {
      this.#keys.set(key, {
        collection,
        id,
        method: req.method,
        received: 1,
        applied: 1,
        differentBody: 0,
        bodyHash,
        firstResponse: response,
      });
    }
    return response;
  }

  /** The 409 of a write the unique constraint refuses, if it does. */
  #uniqueConflict(
    method: string,
    collection: string,
    id: string,
    body: Stored | undefined,
  ): SimResponse | undefined {
    if (this.#unique === undefined || method === 'DELETE') return undefined;
    const existing = method === 'PATCH' ? this.#collections.get(collection)?.get(id) : undefined;
    const holder = this.#unique.conflict(collection, id, { ...existing, ...body, id });
    if (holder === undefined) return undefined;
    this.#counters.conflicts += 1;
    const { field } = this.#unique.constraint;
    return json(409, {
      error: {
        code: 'unique_violation',
        message: `${collection}/${holder} already has this ${field}; ${field} must be unique`,
        field,
        conflictsWith: holder,
      },
    });
  }

  #duplicate(key: string, state: KeyState, bodyHash: string): SimResponse {
    state.received += 1;
    this.#counters.duplicates += 1;
    if (state.bodyHash !== bodyHash) {
      state.differentBody += 1;
      this.#counters.keyReusedWithDifferentBody += 1;
    }
    if (this.#duplicateMode === 'replay') {
      return {
        status: 200,
        body: state.firstResponse.body,
        headers: { 'idempotent-replayed': 'true' },
      };
    }
    return json(
      409,
      {
        error: {
          code: 'duplicate_idempotency_key',
          message: `idempotency key ${key} was already applied to ${state.collection}/${state.id}`,
          key,
        },
      },
      { 'idempotent-replayed': 'true' },
    );
  }

  #apply(method: string, collection: string, id: string, body: Stored | undefined): SimResponse {
    const existing = this.#collections.get(collection)?.get(id);
    switch (method) {
      case 'DELETE':
        this.remove(collection, id);
        return { status: 204 };
      case 'PATCH':
        this.#store(collection, id, { id, ...existing, ...body });
        break;
      default:
        this.#store(collection, id, { id, ...body });
    }
    return json(existing === undefined ? 201 : 200, this.get(collection, id));
  }

  #rejectionOf(write: DestinationWrite): { status: number; reason: string } | undefined {
    const rule = this.#rejections.get(write.id);
    if (rule !== undefined) return rule;
    const reason = this.#rejectWhen?.(write);
    return reason === undefined ? undefined : { status: 422, reason };
  }

  #parseRecordBody(req: SimRequest): Stored {
    let body: unknown;
    try {
      body = parseJsonBody(req);
    } catch (err) {
      this.#counters.invalid += 1;
      throw err;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.#counters.invalid += 1;
      throw new ControlError(400, 'the body must be a JSON object');
    }
    return body as Stored;
  }

  #store(collection: string, id: string, body: Stored): void {
    let store = this.#collections.get(collection);
    if (store === undefined) {
      store = new Map<string, Stored>();
      this.#collections.set(collection, store);
    }
    if (!store.has(id)) this.#sortedIds.delete(collection);
    this.#unique?.stored(collection, id, store.get(id), body);
    store.set(id, body);
  }

  #sorted(collection: string): string[] {
    let ids = this.#sortedIds.get(collection);
    if (ids === undefined) {
      ids = [...(this.#collections.get(collection)?.keys() ?? [])].sort(compareIds);
      this.#sortedIds.set(collection, ids);
    }
    return ids;
  }

  #listPage(
    collection: string,
    params: URLSearchParams,
  ): { number: number; items: Stored[]; next: string | undefined } {
    const limit = limitParam(params, 'limit', 100, 1000);
    const raw = params.get('cursor');
    const cursor = raw === null || raw === '' ? undefined : decodeCursor(raw, listCursorSchema);
    const ids = this.#sorted(collection);
    const start = cursor === undefined ? 0 : upperBound(ids, cursor.a);
    const pageIds = ids.slice(start, start + limit);
    const last = pageIds.at(-1);
    const number = cursor?.p ?? 1;
    const next =
      start + limit < ids.length && last !== undefined
        ? encodeCursor({ a: last, p: number + 1 })
        : undefined;
    return { number, items: pageIds.map((id) => this.get(collection, id) ?? { id }), next };
  }

  #applyOps(body: unknown): { op: string; collection: string; id: string; ok: boolean }[] {
    const ops = z.array(recordOpSchema).parse(Array.isArray(body) ? body : [body]);
    return ops.map((op) => {
      let ok = true;
      if (op.op === 'put') this.insert(op.collection, op.id, op.body ?? {});
      else if (op.op === 'patch') this.alter(op.collection, op.id, op.body ?? {});
      else ok = this.remove(op.collection, op.id);
      return { op: op.op, collection: op.collection, id: op.id, ok };
    });
  }

  #authenticate(req: SimRequest): void {
    if (this.#token === undefined) return;
    if (headerValue(req.headers, 'authorization') !== `Bearer ${this.#token}`)
      throw new ControlError(401, 'missing or invalid bearer token');
  }

  #notFound(req: SimRequest): SimResponse {
    return json(404, {
      error: { code: 'notFound', message: `no ${req.method} ${req.url.pathname}` },
    });
  }
}

function emptyCounters(): DestinationCounters {
  return {
    writesReceived: 0,
    writesByMethod: {},
    applied: 0,
    duplicates: 0,
    keyReusedWithDifferentBody: 0,
    rejected: 0,
    conflicts: 0,
    invalid: 0,
    unkeyed: 0,
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Ids compare as strings, so the list order is stable whatever the id format. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first position in sorted `ids` whose id is greater than `id`. */
function upperBound(ids: string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(ids[mid] ?? '', id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
