/**
 * A Stripe-like list API: `GET /v1/{resource}?limit=&starting_after=&ending_before=&created[gte]=`
 * answers `{object: 'list', data, has_more, url}` newest first (by `created`, ties by id, both
 * descending), behind `Authorization: Bearer <key>`, recording the `Stripe-Version` of each request.
 * `GET /v1/events` lists an event per dataset update and `GET /v1/webhook_endpoints` the
 * endpoints a test set (stripe-events.ts).
 */
import type { Dataset, SimRecord } from './dataset.ts';
import { limitParam, ProviderSimulator, type ProviderOptions } from './provider.ts';
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
import { allEvents, endpointsList, eventsPage, type SimWebhookEndpoint } from './stripe-events.ts';

/** Options of {@link StripeSimulator}. */
export interface StripeSimulatorOptions extends ProviderOptions {
  /** The secret key clients must send. Default `sk_test_tributary`. */
  apiKey?: string;
  /** `Stripe-Version` answered when the request pins none. Default `2024-06-20`. */
  apiVersion?: string;
  /** What `GET /v1/webhook_endpoints` lists. Default none. */
  webhookEndpoints?: SimWebhookEndpoint[];
}

/** Default secret key. */
export const defaultStripeKey = 'sk_test_tributary';

const errorTypes: Record<ErrorKind, string> = {
  unauthorized: 'invalid_request_error',
  rateLimited: 'invalid_request_error',
  serverError: 'api_error',
  notFound: 'invalid_request_error',
  badRequest: 'invalid_request_error',
};

/** The Stripe simulator. */
export class StripeSimulator extends ProviderSimulator {
  readonly #apiKey: string;
  readonly #apiVersion: string;
  #requestIds = 0;
  #endpoints: SimWebhookEndpoint[];
  /** Set: `GET /v1/webhook_endpoints` answers this status (a restricted key: 403). */
  #endpointsRefused: 403 | 404 | undefined;

  /** Stores options; nothing listens until `start`. */
  constructor(options: StripeSimulatorOptions = {}) {
    super(options, {});
    this.#apiKey = options.apiKey ?? defaultStripeKey;
    this.#apiVersion = options.apiVersion ?? '2024-06-20';
    this.#endpoints = [...(options.webhookEndpoints ?? [])];
  }

  /** Replaces what `GET /v1/webhook_endpoints` lists (e.g. one endpoint turned `disabled`). */
  setWebhookEndpoints(endpoints: readonly SimWebhookEndpoint[]): void {
    this.#endpoints = endpoints.map((endpoint) => ({ ...endpoint }));
  }

  /** Makes `GET /v1/webhook_endpoints` answer `status` (403: a restricted key); undefined: list. */
  refuseWebhookEndpoints(status: 403 | 404 | undefined): void {
    this.#endpointsRefused = status;
  }

  protected override recordedHeaders(): readonly string[] {
    return ['stripe-version'];
  }

  protected override errorResponse(kind: ErrorKind, status: number, message: string): SimResponse {
    const error: Record<string, string> = { type: errorTypes[kind], message };
    if (kind === 'rateLimited') error.code = 'rate_limit';
    return json(status, { error }, { 'request-id': this.#nextRequestId() });
  }

  protected override endpoint(req: SimRequest): Endpoint {
    if (req.method === 'GET' && req.url.pathname === '/v1/events') return this.#eventsEndpoint(req);
    if (req.method === 'GET' && req.url.pathname === '/v1/webhook_endpoints')
      return this.#webhookEndpoints(req);
    const item = /^\/v1\/([a-z_]+)\/([^/]+)$/.exec(req.url.pathname);
    if (req.method === 'GET' && item?.[1] !== undefined && item[2] !== undefined)
      return this.#itemEndpoint(req, item[1], decodeURIComponent(item[2]));
    const match = /^\/v1\/([a-z_]+)$/.exec(req.url.pathname);
    const dataset = match?.[1] === undefined ? undefined : this.findDataset(match[1]);
    if (req.method !== 'GET' || dataset === undefined) {
      return {
        route: `${req.method} (unmatched)`,
        respond: () => {
          this.#authenticate(req);
          throw new ControlError(
            404,
            `Unrecognized request URL (${req.method}: ${req.url.pathname}).`,
          );
        },
      };
    }
    const page = deferErrors(
      () =>
        listPage(dataset, req.url.searchParams) ?? new ControlError(400, 'Invalid list parameters'),
    );
    return {
      route: `GET ${req.url.pathname}`,
      ...(page instanceof ControlError ? {} : { page: page.number }),
      respond: () => {
        this.#authenticate(req);
        if (page instanceof ControlError) throw page;
        const version = headerValue(req.headers, 'stripe-version') ?? this.#apiVersion;
        const object = dataset.resource.replace(/s$/, '');
        return json(
          200,
          {
            object: 'list',
            data: page.indexes.map((i) => stripeShape(dataset.record(i), object)),
            has_more: page.hasMore,
            url: req.url.pathname,
          },
          { 'stripe-version': version, 'request-id': this.#nextRequestId() },
        );
      },
    };
  }

  /** `GET /v1/{resource}/{id}`: one record, or Stripe's 404 `No such customer`. */
  #itemEndpoint(req: SimRequest, resource: string, id: string): Endpoint {
    const dataset = this.findDataset(resource);
    return {
      route: `GET /v1/${resource}/:id`,
      respond: () => {
        this.#authenticate(req);
        const object = resource.replace(/s$/, '');
        const index = dataset?.indexOf(id);
        if (dataset === undefined || index === undefined)
          throw new ControlError(404, `No such ${object}: '${id}'`);
        const version = headerValue(req.headers, 'stripe-version') ?? this.#apiVersion;
        return json(200, stripeShape(dataset.record(index), object), {
          'stripe-version': version,
          'request-id': this.#nextRequestId(),
        });
      },
    };
  }

  /** `GET /v1/events`: one event per dataset update, newest first. */
  #eventsEndpoint(req: SimRequest): Endpoint {
    return {
      route: 'GET /v1/events',
      respond: () => {
        this.#authenticate(req);
        const datasets = this.resources().map((resource) => this.dataset(resource));
        const page = eventsPage(allEvents(datasets, stripeShape), req.url.searchParams);
        return json(
          200,
          { object: 'list', ...page, url: '/v1/events' },
          { 'request-id': this.#nextRequestId() },
        );
      },
    };
  }

  /** `GET /v1/webhook_endpoints`: the configured endpoints, or the refusal a test set. */
  #webhookEndpoints(req: SimRequest): Endpoint {
    return {
      route: 'GET /v1/webhook_endpoints',
      respond: () => {
        this.#authenticate(req);
        if (this.#endpointsRefused === 403) {
          throw new ControlError(
            403,
            'The provided key does not have the required permissions for this endpoint.',
          );
        }
        if (this.#endpointsRefused === 404)
          throw new ControlError(404, 'Unrecognized request URL (GET: /v1/webhook_endpoints).');
        return json(200, endpointsList(this.#endpoints), { 'request-id': this.#nextRequestId() });
      },
    };
  }

  #authenticate(req: SimRequest): void {
    const header = headerValue(req.headers, 'authorization');
    if (header === undefined) {
      throw new ControlError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      );
    }
    const bearer = /^Bearer (.+)$/i.exec(header)?.[1];
    const basic = /^Basic (.+)$/i.exec(header)?.[1];
    const key =
      bearer ??
      Buffer.from(basic ?? '', 'base64')
        .toString('utf8')
        .replace(/:$/, '');
    if (key !== this.#apiKey) {
      throw new ControlError(401, `Invalid API Key provided: ${redact(key)}`);
    }
  }

  #nextRequestId(): string {
    this.#requestIds += 1;
    return `req_sim${String(this.#requestIds).padStart(10, '0')}`;
  }
}

function stripeShape(record: SimRecord, object: string): SimRecord {
  const { id, ...rest } = record;
  return { id, object, ...rest };
}

function redact(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 8)}****${key.slice(-4)}`;
}

interface StripePage {
  /** 1-based page number in a walk with this limit. */
  number: number;
  indexes: number[];
  hasMore: boolean;
}

/**
 * The record indexes of one list page, newest first. Indexes sort like (created, id), so the list
 * is the index range allowed by the `created` filters, descending. Undefined on invalid parameters
 * other than the limit (which throws its own 400).
 */
function listPage(dataset: Dataset, params: URLSearchParams): StripePage | undefined {
  const limit = limitParam(params, 'limit', 10, 100);
  const range = createdRange(dataset, params);
  if (range === undefined) return undefined;
  const { low, high } = range; // inclusive; empty when low > high
  const after = params.get('starting_after');
  const before = params.get('ending_before');
  if (after !== null && before !== null) return undefined;
  if (before !== null) {
    const pivot = cursorIndex(dataset, before);
    const from = Math.min(high, pivot + limit); // the `limit` records just newer than the pivot
    const indexes = descending(Math.max(low, pivot + 1), from);
    return { number: Math.floor((high - from) / limit) + 1, indexes, hasMore: from < high };
  }
  const start = after === null ? high : Math.min(high, cursorIndex(dataset, after) - 1);
  const end = Math.max(low, start - limit + 1);
  const indexes = descending(end, start);
  return { number: Math.floor((high - start) / limit) + 1, indexes, hasMore: end > low };
}

function cursorIndex(dataset: Dataset, id: string): number {
  const index = dataset.indexOf(id);
  if (index === undefined) throw new ControlError(400, `No such ${dataset.resource}: '${id}'`);
  return index;
}

/** Indexes from `high` down to `low` (inclusive). */
function descending(low: number, high: number): number[] {
  const indexes: number[] = [];
  for (let i = high; i >= low; i--) indexes.push(i);
  return indexes;
}

/** The inclusive index range whose `created` passes `created`, `created[gt|gte|lt|lte]`. */
function createdRange(
  dataset: Dataset,
  params: URLSearchParams,
): { low: number; high: number } | undefined {
  let low = 0;
  let high = dataset.size - 1;
  const bounds: [string, (created: number, bound: number) => boolean, 'low' | 'high'][] = [
    ['created[gt]', (c, b) => c > b, 'low'],
    ['created[gte]', (c, b) => c >= b, 'low'],
    ['created', (c, b) => c >= b, 'low'],
    ['created', (c, b) => c <= b, 'high'],
    ['created[lt]', (c, b) => c < b, 'high'],
    ['created[lte]', (c, b) => c <= b, 'high'],
  ];
  for (const [name, passes, side] of bounds) {
    const raw = params.get(name);
    if (raw === null) continue;
    const bound = Number(raw);
    if (!Number.isInteger(bound)) return undefined;
    const first = firstIndex(dataset.size, (i) => passes(dataset.createdAt(i), bound));
    if (side === 'low') low = Math.max(low, first);
    else
      high = Math.min(
        high,
        lastIndex(dataset.size, (i) => passes(dataset.createdAt(i), bound)),
      );
  }
  return { low, high };
}

/** The first index where a monotonic false→true predicate holds (size when never). */
function firstIndex(size: number, holds: (index: number) => boolean): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (holds(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The last index where a monotonic true→false predicate holds (-1 when never). */
function lastIndex(size: number, holds: (index: number) => boolean): number {
  return firstIndex(size, (i) => !holds(i)) - 1;
}
