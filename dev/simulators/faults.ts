/**
 * Fault injection shared by every simulator: which faults exist, which requests they apply to
 * (their scope), and the bookkeeping of how often each fired. Deciding is pure bookkeeping; the
 * server (server.ts) carries the faults out on the wire.
 */
import { z } from 'zod';
import { seededRandom } from './random.ts';

const positiveInts = z.union([
  z.number().int().positive(),
  z.array(z.number().int().positive()).min(1),
]);

/**
 * Which requests a fault applies to. Request numbers count the requests that pass the fault's
 * `method`/`path` filter since the fault was added, from 1. Pages are 1-based pages of a list walk.
 */
export const faultScopeSchema = z.discriminatedUnion('kind', [
  /** Every matching request. */
  z.strictObject({ kind: z.literal('all') }),
  /** The n-th matching request(s). */
  z.strictObject({ kind: z.literal('nth'), n: positiveInts }),
  /** The n-th matching request and every one after it. */
  z.strictObject({ kind: z.literal('from'), n: z.number().int().positive() }),
  /** List requests for the given page number(s) (requests that are no page never match). */
  z.strictObject({ kind: z.literal('page'), page: positiveInts }),
  /** Each matching request with probability `p`, drawn from a generator seeded with `seed`. */
  z.strictObject({
    kind: z.literal('probability'),
    p: z.number().min(0).max(1),
    seed: z.number().int().optional(),
  }),
  /** Every matching request once the server has answered `writes` write requests with 2xx. */
  z.strictObject({ kind: z.literal('afterWrites'), writes: z.number().int().nonnegative() }),
]);

/** Which requests a fault applies to; see {@link faultScopeSchema}. */
export type FaultScope = z.infer<typeof faultScopeSchema>;

const common = {
  /** Name in stats; default `f<n>`. */
  id: z.string().min(1).optional(),
  /** Default `{kind: 'all'}`. */
  scope: faultScopeSchema.optional(),
  /** Fires at most this many times; default unlimited. */
  limit: z.number().int().positive().optional(),
  /** Only requests whose path starts with this. Default every (non-control) path. */
  path: z.string().startsWith('/').optional(),
  /** Only requests with this method (case-insensitive). Default every method. */
  method: z.string().min(1).optional(),
};

/** One fault to inject, as `POST /__control/faults` accepts it. */
export const faultSchema = z.discriminatedUnion('type', [
  /** Delays the answer by `ms` milliseconds (combines with any other fault). */
  z.strictObject({ type: z.literal('latency'), ms: z.number().int().nonnegative(), ...common }),
  /** Accepts the request and never answers; the socket closes when the client gives up or on stop. */
  z.strictObject({ type: z.literal('timeout'), ...common }),
  /** 429 with `Retry-After: <retryAfterSeconds>` (default 1). */
  z.strictObject({
    type: z.literal('rateLimit'),
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    ...common,
  }),
  /** A 5xx answer (default 500); the request is not processed. */
  z.strictObject({
    type: z.literal('serverError'),
    status: z.number().int().min(500).max(599).optional(),
    ...common,
  }),
  /** Processes the request, sends the headers and half the body, then resets the connection. */
  z.strictObject({ type: z.literal('connectionReset'), ...common }),
  /** Processes the request and answers with its JSON body cut in half (invalid JSON). */
  z.strictObject({ type: z.literal('malformedJson'), ...common }),
  /** 401 with the provider's authentication error; the request is not processed. */
  z.strictObject({ type: z.literal('unauthorized'), ...common }),
  /**
   * Processes the request and answers an empty list: every array of the JSON body emptied, the
   * pagination ended (`has_more: false`, `next_cursor: null`, no `Link` header). A source that
   * quietly returns nothing.
   */
  z.strictObject({ type: z.literal('emptyList'), ...common }),
  /**
   * Adds deprecation headers to the (otherwise normal) answer: `Deprecation: @<epoch>` (RFC 9745),
   * `Sunset: <HTTP date>` (RFC 8594), `Link: <link>; rel="deprecation"`, and the provider's own
   * header where it has one (Shopify: `X-Shopify-API-Deprecated-Reason: <reason>`).
   */
  z.strictObject({
    type: z.literal('deprecation'),
    /** When the resource was deprecated; RFC 3339 or Unix seconds. Default 2024-01-01. */
    deprecation: z.union([z.string(), z.number()]).optional(),
    /** When it stops working; RFC 3339 or Unix seconds. Default 2025-12-31 (absent if null). */
    sunset: z.union([z.string(), z.number(), z.null()]).optional(),
    /** Documentation link. Default `https://example.test/deprecations`. */
    link: z.string().optional(),
    /** Provider-specific reason text. */
    reason: z.string().optional(),
    ...common,
  }),
]);

/** One fault to inject; see {@link faultSchema}. */
export type FaultSpec = z.infer<typeof faultSchema>;
/** The kinds of fault. */
export type FaultType = FaultSpec['type'];
/** A deprecation fault. */
export type DeprecationFault = Extract<FaultSpec, { type: 'deprecation' }>;
/** A fault that decides the whole answer (at most one fires per request). */
export type TerminalFault = Exclude<FaultSpec, { type: 'latency' | 'deprecation' }>;

/** A fault with its bookkeeping, as stats report it. */
export interface FaultStatus {
  /** The fault's id. */
  id: string;
  /** The fault as added. */
  spec: FaultSpec;
  /** Requests that passed the method/path filter since the fault was added. */
  seen: number;
  /** Times it fired. */
  fired: number;
  /** Firings left before it is exhausted; null when unlimited. */
  remaining: number | null;
}

/** What a request looks like to fault scopes. */
export interface RequestFacts {
  method: string;
  path: string;
  /** 1-based page number of a list request; undefined for other requests. */
  page: number | undefined;
  /** 2xx answers to write requests so far. */
  successfulWrites: number;
}

/** The faults to carry out on one request. */
export interface FaultDecision {
  /** Total added latency, ms. */
  latencyMs: number;
  deprecations: DeprecationFault[];
  terminal: TerminalFault | undefined;
  /** Every fault that fired for this request. */
  fired: FaultSpec[];
}

interface ActiveFault {
  status: FaultStatus;
  random: () => number;
}

/** The active faults of one simulator and how often each fired. */
export class FaultInjector {
  readonly #seed: number;
  #faults: ActiveFault[] = [];
  #added = 0;
  #firedByType: Partial<Record<FaultType, number>> = {};

  /** `seed` seeds probability scopes that give none of their own. */
  constructor(seed: number) {
    this.#seed = seed;
  }

  /** Adds faults (validated); returns their ids. Throws a ZodError on an invalid fault. */
  add(faults: readonly unknown[]): string[] {
    const parsed = z.array(faultSchema).parse(faults);
    return parsed.map((spec) => {
      this.#added += 1;
      const id = spec.id ?? `f${this.#added}`;
      const seed = spec.scope?.kind === 'probability' ? spec.scope.seed : undefined;
      this.#faults.push({
        status: { id, spec, seen: 0, fired: 0, remaining: spec.limit ?? null },
        random: seededRandom(seed ?? this.#seed + this.#added),
      });
      return id;
    });
  }

  /** Removes every fault (counters of fired faults by type are kept until `reset`). */
  clear(): void {
    this.#faults = [];
  }

  /** Removes every fault and forgets every counter. */
  reset(): void {
    this.clear();
    this.#added = 0;
    this.#firedByType = {};
  }

  /** The faults with their bookkeeping (copies). */
  list(): FaultStatus[] {
    return this.#faults.map(({ status }) => ({ ...status }));
  }

  /** Firings by fault type since the last reset. */
  firedByType(): Partial<Record<FaultType, number>> {
    return { ...this.#firedByType };
  }

  /** Decides which faults fire for a request and counts them. */
  decide(facts: RequestFacts): FaultDecision {
    const decision: FaultDecision = {
      latencyMs: 0,
      deprecations: [],
      terminal: undefined,
      fired: [],
    };
    for (const fault of this.#faults) {
      const { status } = fault;
      const { spec } = status;
      if (!passesFilter(spec, facts)) continue;
      status.seen += 1;
      const inScope = scopeMatches(spec.scope ?? { kind: 'all' }, status.seen, facts, fault.random);
      if (!inScope || status.remaining === 0) continue;
      if (!apply(decision, spec)) continue;
      status.fired += 1;
      if (status.remaining !== null) status.remaining -= 1;
      this.#firedByType[spec.type] = (this.#firedByType[spec.type] ?? 0) + 1;
      decision.fired.push(spec);
    }
    return decision;
  }
}

function passesFilter(spec: FaultSpec, facts: RequestFacts): boolean {
  if (spec.method !== undefined && spec.method.toUpperCase() !== facts.method.toUpperCase())
    return false;
  return spec.path === undefined || facts.path.startsWith(spec.path);
}

function scopeMatches(
  scope: FaultScope,
  seen: number,
  facts: RequestFacts,
  random: () => number,
): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'nth':
      return includes(scope.n, seen);
    case 'from':
      return seen >= scope.n;
    case 'page':
      return facts.page !== undefined && includes(scope.page, facts.page);
    case 'probability':
      // Drawn for every matching request, so the sequence depends only on the seed.
      return random() < scope.p;
    case 'afterWrites':
      return facts.successfulWrites >= scope.writes;
  }
}

function includes(values: number | number[], value: number): boolean {
  return Array.isArray(values) ? values.includes(value) : values === value;
}

/** Adds `spec` to the decision; false when a terminal fault already decided the answer. */
function apply(decision: FaultDecision, spec: FaultSpec): boolean {
  switch (spec.type) {
    case 'latency':
      decision.latencyMs += spec.ms;
      return true;
    case 'deprecation':
      decision.deprecations.push(spec);
      return true;
    default:
      if (decision.terminal !== undefined) return false;
      decision.terminal = spec;
      return true;
  }
}

/** Unix seconds of an RFC 3339 string or a number of Unix seconds. */
export function toEpochSeconds(value: string | number): number {
  if (typeof value === 'number') return value;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`not a date: ${value}`);
  return Math.floor(ms / 1000);
}

/** The standard deprecation headers of a fault (RFC 9745 Deprecation, RFC 8594 Sunset, Link). */
export function deprecationHeaders(fault: DeprecationFault): Record<string, string> {
  const headers: Record<string, string> = {
    deprecation: `@${toEpochSeconds(fault.deprecation ?? '2024-01-01T00:00:00Z')}`,
    link: `<${fault.link ?? 'https://example.test/deprecations'}>; rel="deprecation"; type="text/html"`,
  };
  if (fault.sunset !== null) {
    const sunset = toEpochSeconds(fault.sunset ?? '2025-12-31T23:59:59Z');
    headers.sunset = new Date(sunset * 1000).toUTCString();
  }
  return headers;
}
