/**
 * A Shopify-like REST Admin API: `GET /admin/api/{version}/{resource}.json?limit=&page_info=&
 * updated_at_min=` answers `{"<resource>": [...]}` by ascending id, with cursor pagination in the
 * `Link` header, `X-Shopify-Access-Token` auth, and the leaky-bucket call limit
 * (`X-Shopify-Shop-Api-Call-Limit: n/40`, 2 calls/s leak, 429 + `Retry-After` when full).
 */
import { z } from 'zod';
import { rfc3339, type Dataset, type SimRecord } from './dataset.ts';
import type { DeprecationFault } from './faults.ts';
import { formatLinks } from './link.ts';
import {
  decodeCursor,
  encodeCursor,
  limitParam,
  ProviderSimulator,
  type ProviderOptions,
} from './provider.ts';
import {
  ControlError,
  deferErrors,
  headerValue,
  json,
  type Endpoint,
  type ErrorKind,
  type SimRequest,
  type SimResponse,
} from './server.ts';

/** Options of {@link ShopifySimulator}. */
export interface ShopifySimulatorOptions extends ProviderOptions {
  /** The access token clients must send. Default `shpat_tributary`. */
  accessToken?: string;
  /** Supported API versions; others answer 404. Default 2024-04 … 2025-04 (quarterly). */
  versions?: string[];
  /** Deprecated versions → reason; their answers carry `X-Shopify-API-Deprecated-Reason`. */
  deprecatedVersions?: Record<string, string>;
  /** Bucket capacity, calls. Default 40. */
  bucketSize?: number;
  /** Bucket leak rate, calls per second. Default 2. */
  leakPerSecond?: number;
  /** Clock of the bucket, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Default access token. */
export const defaultShopifyToken = 'shpat_tributary';
/** First numeric id of generated Shopify records. */
export const shopifyIdBase = 1_000_000_000;
/** The reason used when a deprecation fault gives none. */
const defaultDeprecationReason =
  'https://shopify.dev/docs/api/usage/versioning#deprecation-practices';

const cursorSchema = z.object({
  /** Direction: next (after `i`) or previous (before `i`). */
  d: z.enum(['n', 'p']),
  /** Exclusive boundary record index. */
  i: z.number().int(),
  /** updated_at_min, Unix seconds. */
  m: z.number().optional(),
  /** Page number of the page this cursor leads to. */
  p: z.number().int().positive(),
});
type Cursor = z.infer<typeof cursorSchema>;

interface ShopifyPage {
  number: number;
  indexes: number[];
  next: Cursor | undefined;
  previous: Cursor | undefined;
}

/** The Shopify simulator. */
export class ShopifySimulator extends ProviderSimulator {
  readonly #token: string;
  readonly #versions: Set<string>;
  readonly #deprecated: Record<string, string>;
  readonly #bucketSize: number;
  readonly #leakPerSecond: number;
  readonly #now: () => number;
  #bucket = { level: 0, at: 0 };

  /** Stores options; nothing listens until `start`. */
  constructor(options: ShopifySimulatorOptions = {}) {
    super(options, { numericIdBase: shopifyIdBase });
    this.#token = options.accessToken ?? defaultShopifyToken;
    this.#versions = new Set(
      options.versions ?? ['2024-04', '2024-07', '2024-10', '2025-01', '2025-04'],
    );
    this.#deprecated = options.deprecatedVersions ?? {};
    this.#bucketSize = options.bucketSize ?? 40;
    this.#leakPerSecond = options.leakPerSecond ?? 2;
    this.#now = options.now ?? Date.now;
  }

  /** The bucket level now, calls (fractional while leaking). */
  bucketLevel(): number {
    const elapsed = (this.#now() - this.#bucket.at) / 1000;
    return Math.max(0, this.#bucket.level - elapsed * this.#leakPerSecond);
  }

  protected override recordedHeaders(): readonly string[] {
    return ['x-shopify-api-version'];
  }

  protected override resetState(): void {
    this.#bucket = { level: 0, at: 0 };
  }

  protected override errorResponse(kind: ErrorKind, status: number, message: string): SimResponse {
    const text: Record<ErrorKind, string> = {
      unauthorized: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      rateLimited:
        'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
      serverError: 'Internal Server Error',
      notFound: 'Not Found',
      badRequest: message,
    };
    return json(status, { errors: text[kind] });
  }

  protected override providerDeprecationHeaders(fault: DeprecationFault): Record<string, string> {
    return { 'x-shopify-api-deprecated-reason': fault.reason ?? defaultDeprecationReason };
  }

  protected override endpoint(req: SimRequest): Endpoint {
    const item = /^\/admin\/api\/([^/]+)\/([a-z_]+)\/(\d+)\.json$/.exec(req.url.pathname);
    if (req.method === 'GET' && item?.[1] !== undefined && item[2] !== undefined && item[3])
      return this.#itemEndpoint(req, item[1], item[2], item[3]);
    const match = /^\/admin\/api\/([^/]+)\/([a-z_]+)\.json$/.exec(req.url.pathname);
    const version = match?.[1];
    const dataset = match?.[2] === undefined ? undefined : this.findDataset(match[2]);
    if (req.method !== 'GET' || version === undefined || dataset === undefined) {
      return { route: `${req.method} (unmatched)`, respond: () => this.#notFound() };
    }
    const page = deferErrors(() => listPage(dataset, req.url.searchParams));
    return {
      route: `GET ${req.url.pathname}`,
      ...(page instanceof ControlError ? {} : { page: page.number }),
      respond: () => {
        if (!this.#versions.has(version)) return this.#notFound();
        this.#authenticate(req);
        const callLimit = this.#take();
        if (callLimit === undefined) {
          const limited = this.errorResponse('rateLimited', 429, 'bucket full');
          limited.headers = this.#headers(version, { 'retry-after': '2.0' }, this.#bucketSize);
          return limited;
        }
        if (page instanceof ControlError) throw page;
        const base = `${this.url}${req.url.pathname}?limit=${limitOf(req.url.searchParams)}&page_info=`;
        const links = formatLinks([
          ...(page.previous === undefined
            ? []
            : [{ url: base + encodeCursor(page.previous), rel: 'previous' }]),
          ...(page.next === undefined
            ? []
            : [{ url: base + encodeCursor(page.next), rel: 'next' }]),
        ]);
        return json(
          200,
          { [dataset.resource]: page.indexes.map((i) => shopifyShape(dataset.record(i))) },
          this.#headers(version, links === undefined ? {} : { link: links }, callLimit),
        );
      },
    };
  }

  #headers(version: string, extra: Record<string, string>, used: number): Record<string, string> {
    const reason = this.#deprecated[version];
    return {
      ...extra,
      'x-shopify-shop-api-call-limit': `${Math.ceil(used)}/${this.#bucketSize}`,
      'x-shopify-api-version': version,
      ...(reason === undefined ? {} : { 'x-shopify-api-deprecated-reason': reason }),
    };
  }

  /** Adds one call to the bucket; the new level, or undefined when the bucket is full. */
  #take(): number | undefined {
    const level = this.bucketLevel();
    if (level + 1 > this.#bucketSize) return undefined;
    this.#bucket = { level: level + 1, at: this.#now() };
    return level + 1;
  }

  #authenticate(req: SimRequest): void {
    if (headerValue(req.headers, 'x-shopify-access-token') !== this.#token)
      throw new ControlError(401, 'invalid access token');
  }

  /** `GET /admin/api/{version}/{resource}/{id}.json` → `{"<singular>": record}`, or 404. */
  #itemEndpoint(req: SimRequest, version: string, resource: string, id: string): Endpoint {
    const dataset = this.findDataset(resource);
    return {
      route: `GET /admin/api/${version}/${resource}/:id.json`,
      respond: () => {
        if (!this.#versions.has(version)) return this.#notFound();
        this.#authenticate(req);
        const callLimit = this.#take();
        if (callLimit === undefined) {
          const limited = this.errorResponse('rateLimited', 429, 'bucket full');
          limited.headers = this.#headers(version, { 'retry-after': '2.0' }, this.#bucketSize);
          return limited;
        }
        const index = dataset?.indexOf(id);
        if (dataset === undefined || index === undefined) return this.#notFound();
        const singular = resource.replace(/s$/, '');
        return json(
          200,
          { [singular]: shopifyShape(dataset.record(index)) },
          this.#headers(version, {}, callLimit),
        );
      },
    };
  }

  #notFound(): SimResponse {
    return this.errorResponse('notFound', 404, 'Not Found');
  }
}

function limitOf(params: URLSearchParams): number {
  return limitParam(params, 'limit', 50, 250);
}

function shopifyShape(record: SimRecord): SimRecord {
  const { created, ...rest } = record;
  return typeof created === 'number' ? { ...rest, created_at: rfc3339(created) } : rest;
}

/** One page by ascending index, honouring `updated_at_min` (first page) or the cursor. */
function listPage(dataset: Dataset, params: URLSearchParams): ShopifyPage {
  const limit = limitOf(params);
  const rawCursor = params.get('page_info');
  let cursor: Cursor;
  if (rawCursor === null) {
    cursor = { d: 'n', i: -1, p: 1, ...updatedMin(params) };
  } else {
    const extra = [...params.keys()].filter((name) => name !== 'limit' && name !== 'page_info');
    if (extra.length > 0)
      throw new ControlError(400, `page_info cannot be combined with ${extra.join(', ')}`);
    cursor = decodeCursor(rawCursor, cursorSchema);
  }
  const matches = (i: number) => cursor.m === undefined || dataset.updatedAt(i) >= cursor.m;
  const step = cursor.d === 'n' ? 1 : -1;
  const found = scan(dataset.size, cursor.i + step, step, limit + 1, matches);
  const more = found.length > limit;
  const indexes = found.slice(0, limit);
  if (step < 0) indexes.reverse();
  const first = indexes[0];
  const last = indexes.at(-1);
  const filter = cursor.m === undefined ? {} : { m: cursor.m };
  const hasNext =
    step > 0 ? more : last !== undefined && scan(dataset.size, last + 1, 1, 1, matches).length > 0;
  const hasPrevious = step < 0 ? more : first !== undefined && cursor.p > 1;
  return {
    number: cursor.p,
    indexes,
    next:
      hasNext && last !== undefined ? { d: 'n', i: last, p: cursor.p + 1, ...filter } : undefined,
    previous:
      hasPrevious && first !== undefined
        ? { d: 'p', i: first, p: Math.max(1, cursor.p - 1), ...filter }
        : undefined,
  };
}

function updatedMin(params: URLSearchParams): { m?: number } {
  const raw = params.get('updated_at_min');
  if (raw === null) return {};
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new ControlError(400, `updated_at_min: invalid date ${raw}`);
  return { m: Math.floor(ms / 1000) };
}

/** Up to `wanted` indexes from `start` in direction `step` for which `matches` holds. */
function scan(
  size: number,
  start: number,
  step: 1 | -1,
  wanted: number,
  matches: (index: number) => boolean,
): number[] {
  const found: number[] = [];
  for (let i = start; i >= 0 && i < size && found.length < wanted; i += step)
    if (matches(i)) found.push(i);
  return found;
}
