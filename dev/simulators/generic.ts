/**
 * A generic JSON API (`provider: http`): records by ascending id at a configurable path and
 * records path, paginated by `cursor` (a cursor in the body), `link` (a `Link: rel="next"` header)
 * or `offset` (`offset`/`limit`), behind bearer, basic or custom-header auth.
 */
import { z } from 'zod';
import type { Dataset } from './dataset.ts';
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

/** How the generic API paginates. Parameter and path names have the defaults shown. */
export type GenericPagination =
  | {
      type: 'cursor';
      /** Query parameter carrying the cursor. Default `cursor`. */
      cursorParam?: string;
      /** Dot path of the next cursor in the body (null on the last page). Default `next_cursor`. */
      cursorPath?: string;
    }
  | {
      type: 'link';
      /** Query parameter carrying the cursor in the next link. Default `cursor`. */
      cursorParam?: string;
    }
  | {
      type: 'offset';
      /** Query parameter of the offset. Default `offset`. */
      offsetParam?: string;
    };

/** What the generic API accepts as credentials. */
export type GenericAuth =
  | { type: 'none' }
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'header'; name: string; value: string };

/** Options of {@link GenericSimulator}. */
export interface GenericSimulatorOptions extends ProviderOptions {
  /** Path of a resource; `{resource}` is replaced by its name. Default `/v1/{resource}`. */
  path?: string;
  /** Dot path of the records array in the body; `''` makes the body the array. Default `data`. */
  recordsPath?: string;
  /** Default `{type: 'cursor'}`. */
  pagination?: GenericPagination;
  /** Default bearer with token `generic-token`. */
  auth?: GenericAuth;
  /** Query parameter of the page size. Default `limit`. */
  limitParam?: string;
  /** Page size when the request gives none. Default 50. Maximum 1000. */
  defaultLimit?: number;
  /** Query parameter filtering `updated_at >= <RFC 3339>`. Default `updated_since`. */
  updatedSinceParam?: string;
}

/** Default bearer token. */
export const defaultGenericToken = 'generic-token';

const cursorSchema = z.object({
  /** Last index served. */
  i: z.number().int(),
  /** Page number of the page this cursor leads to. */
  p: z.number().int().positive(),
  /** updated_since filter, Unix seconds. */
  m: z.number().optional(),
});

interface GenericPage {
  number: number;
  indexes: number[];
  /** Cursor of the next page (cursor/link pagination) when there is one. */
  next: string | undefined;
}

/** The generic HTTP API simulator. Its default resource is `items`. */
export class GenericSimulator extends ProviderSimulator {
  readonly #path: string;
  readonly #recordsPath: string;
  readonly #pagination: GenericPagination;
  readonly #auth: GenericAuth;
  readonly #limitParam: string;
  readonly #defaultLimit: number;
  readonly #updatedSinceParam: string;

  /** Stores options; nothing listens until `start`. */
  constructor(options: GenericSimulatorOptions = {}) {
    super({ ...options, resources: options.resources ?? ['items'] });
    this.#path = options.path ?? '/v1/{resource}';
    this.#recordsPath = options.recordsPath ?? 'data';
    this.#pagination = options.pagination ?? { type: 'cursor' };
    this.#auth = options.auth ?? { type: 'bearer', token: defaultGenericToken };
    this.#limitParam = options.limitParam ?? 'limit';
    this.#defaultLimit = options.defaultLimit ?? 50;
    this.#updatedSinceParam = options.updatedSinceParam ?? 'updated_since';
  }

  /** The path serving `resource` (default the first). */
  pathOf(resource?: string): string {
    return this.#path.replace('{resource}', this.dataset(resource).resource);
  }

  protected override errorResponse(kind: ErrorKind, status: number, message: string): SimResponse {
    const headers: Record<string, string> = {};
    if (kind === 'unauthorized' && this.#auth.type === 'bearer')
      headers['www-authenticate'] = 'Bearer realm="generic"';
    if (kind === 'unauthorized' && this.#auth.type === 'basic')
      headers['www-authenticate'] = 'Basic realm="generic"';
    return json(status, { error: { code: kind, message } }, headers);
  }

  protected override endpoint(req: SimRequest): Endpoint {
    const item = /^(.*)\/([^/]+)$/.exec(req.url.pathname);
    const itemSet = item?.[1] === undefined ? undefined : this.#datasetAt(item[1]);
    if (req.method === 'GET' && itemSet !== undefined && item?.[2] !== undefined)
      return this.#itemEndpoint(req, itemSet, decodeURIComponent(item[2]));
    const dataset = this.#datasetAt(req.url.pathname);
    if (req.method !== 'GET' || dataset === undefined) {
      return {
        route: `${req.method} (unmatched)`,
        respond: () => this.errorResponse('notFound', 404, `no route ${req.url.pathname}`),
      };
    }
    const page = deferErrors(() => this.#listPage(dataset, req.url.searchParams));
    return {
      route: `GET ${req.url.pathname}`,
      ...(page instanceof ControlError ? {} : { page: page.number }),
      respond: () => {
        this.#authenticate(req);
        if (page instanceof ControlError) throw page;
        return this.#render(req, dataset, page);
      },
    };
  }

  /** `GET {path}/{id}`: the record itself as the body, or 404. */
  #itemEndpoint(req: SimRequest, dataset: Dataset, id: string): Endpoint {
    return {
      route: `GET ${this.pathOf(dataset.resource)}/:id`,
      respond: () => {
        this.#authenticate(req);
        const index = dataset.indexOf(id);
        if (index === undefined) return this.errorResponse('notFound', 404, `no record ${id}`);
        return json(200, dataset.record(index));
      },
    };
  }

  #datasetAt(pathname: string): Dataset | undefined {
    const [before = '', after = ''] = this.#path.split('{resource}');
    if (!this.#path.includes('{resource}'))
      return pathname === this.#path ? this.dataset() : undefined;
    if (!pathname.startsWith(before) || !pathname.endsWith(after)) return undefined;
    return this.findDataset(pathname.slice(before.length, pathname.length - after.length));
  }

  #render(req: SimRequest, dataset: Dataset, page: GenericPage): SimResponse {
    const records = page.indexes.map((i) => dataset.record(i));
    const body: unknown =
      this.#recordsPath === '' ? records : setPath({}, this.#recordsPath, records);
    const pagination = this.#pagination;
    switch (pagination.type) {
      case 'cursor':
        if (this.#recordsPath === '') throw new Error('cursor pagination needs a records path');
        setPath(
          body as Record<string, unknown>,
          pagination.cursorPath ?? 'next_cursor',
          page.next ?? null,
        );
        return json(200, body);
      case 'link': {
        if (page.next === undefined) return json(200, body);
        const next = new URL(req.url.pathname, this.url);
        next.searchParams.set(this.#limitParam, String(this.#limit(req.url.searchParams)));
        next.searchParams.set(pagination.cursorParam ?? 'cursor', page.next);
        return json(200, body, { link: formatLinks([{ url: next.href, rel: 'next' }]) ?? '' });
      }
      case 'offset':
        return json(200, body);
    }
  }

  #listPage(dataset: Dataset, params: URLSearchParams): GenericPage {
    const limit = this.#limit(params);
    const pagination = this.#pagination;
    if (pagination.type === 'offset') {
      const rawOffset = params.get(pagination.offsetParam ?? 'offset') ?? '0';
      if (!/^\d+$/.test(rawOffset)) throw new ControlError(400, `invalid offset ${rawOffset}`);
      const offset = Number(rawOffset);
      const since = this.#since(params);
      const matches = (i: number) => since === undefined || dataset.updatedAt(i) >= since;
      const indexes: number[] = [];
      let seen = 0;
      for (let i = 0; i < dataset.size && indexes.length < limit; i++) {
        if (!matches(i)) continue;
        if (seen >= offset) indexes.push(i);
        seen += 1;
      }
      return { number: Math.floor(offset / limit) + 1, indexes, next: undefined };
    }
    const raw = params.get(pagination.cursorParam ?? 'cursor');
    const cursor =
      raw === null || raw === ''
        ? { i: -1, p: 1, m: this.#since(params) }
        : decodeCursor(raw, cursorSchema);
    const matches = (i: number) => cursor.m === undefined || dataset.updatedAt(i) >= cursor.m;
    const found: number[] = [];
    for (let i = cursor.i + 1; i < dataset.size && found.length <= limit; i++)
      if (matches(i)) found.push(i);
    const indexes = found.slice(0, limit);
    const last = indexes.at(-1);
    const next =
      found.length > limit && last !== undefined
        ? encodeCursor({
            i: last,
            p: cursor.p + 1,
            ...(cursor.m === undefined ? {} : { m: cursor.m }),
          })
        : undefined;
    return { number: cursor.p, indexes, next };
  }

  #limit(params: URLSearchParams): number {
    return limitParam(params, this.#limitParam, this.#defaultLimit, 1000);
  }

  #since(params: URLSearchParams): number | undefined {
    const raw = params.get(this.#updatedSinceParam);
    if (raw === null) return undefined;
    const ms = Date.parse(raw);
    if (Number.isNaN(ms))
      throw new ControlError(400, `${this.#updatedSinceParam}: invalid date ${raw}`);
    return Math.floor(ms / 1000);
  }

  #authenticate(req: SimRequest): void {
    const auth = this.#auth;
    const authorization = headerValue(req.headers, 'authorization');
    let ok: boolean;
    switch (auth.type) {
      case 'none':
        ok = true;
        break;
      case 'bearer':
        ok = authorization === `Bearer ${auth.token}`;
        break;
      case 'basic': {
        const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
        ok = authorization === `Basic ${encoded}`;
        break;
      }
      case 'header':
        ok = headerValue(req.headers, auth.name.toLowerCase()) === auth.value;
        break;
    }
    if (!ok) throw new ControlError(401, 'missing or invalid credentials');
  }
}

/** Sets `value` at dot path `path` of `target`, creating objects on the way; returns `target`. */
function setPath(
  target: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (typeof child === 'object' && child !== null) node = child as Record<string, unknown>;
    else node = node[part] = {};
  }
  node[parts.at(-1) ?? path] = value;
  return target;
}
