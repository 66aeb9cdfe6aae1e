/**
 * The generic HTTP provider: `GET {baseURL}{http.path}` with `http.query`, records at
 * `recordsPath`, and cursor, link or offset pagination (or a single page when unset).
 *
 * Incremental syncs: a query value may contain the placeholder `{since}`, replaced by the
 * high-water mark of `updatedField` from the last completed pass (e.g.
 * `query: {updated_since: "{since}"}`); on a full pass such parameters are left out. Without
 * the placeholder, or without `updatedField`, every pass reads everything (idempotent writes
 * make that safe, only slower).
 *
 * Retrying quarantined records by id needs `http.itemPath` (e.g. `/v1/items/{id}`): the body of
 * that GET is the record. Without it, held records are retried only when a pass reads them.
 */
import type { z } from 'zod';
import type { HTTPSource } from '../../api/index.ts';
import { SyncError } from '../errors.ts';
import { getPath, isObject, joinURL } from '../json.ts';
import { authHeaders } from '../http/auth.ts';
import { linkWithRel } from '../http/headers.ts';
import { fetchItem, pageError, pageSize, withParams } from './request.ts';
import type { Page, PassStart, Provider, ProviderContext } from './types.ts';

/** The placeholder of a `http.query` value replaced by the incremental high-water mark. */
export const SINCE_PLACEHOLDER = '{since}';

type HTTPSpec = z.infer<typeof HTTPSource>;
/** One fetched page: its records, the parsed body, its deprecation and its Link header. */
interface Fetched {
  records: unknown[];
  body: unknown;
  deprecation: Page['deprecation'];
  link: string | undefined;
}
type Fetch = (url: URL) => Promise<Fetched>;

/** The first page URL: baseURL + path + query, with `{since}` filled in or its params left out. */
export function firstPageURL(baseURL: string, http: HTTPSpec, since: string | undefined): URL {
  const url = joinURL(baseURL, http.path);
  for (const [name, value] of Object.entries(http.query ?? {})) {
    if (!value.includes(SINCE_PLACEHOLDER)) url.searchParams.set(name, value);
    else if (since !== undefined)
      url.searchParams.set(name, value.split(SINCE_PLACEHOLDER).join(since));
  }
  return url;
}

/** The URL of one record: baseURL + itemPath with `{id}` replaced by the URL-encoded id. */
export function itemURL(baseURL: string, itemPath: string, id: string): URL {
  return joinURL(baseURL, itemPath.split('{id}').join(encodeURIComponent(id)));
}

/** Reads one record at `itemPath` (its body is the record); undefined without an itemPath. */
function itemFetcher(
  context: ProviderContext,
  baseURL: string,
  itemPath: string | undefined,
  headers: Record<string, string>,
): Provider['fetchById'] {
  if (itemPath === undefined) return undefined;
  return (id) =>
    fetchItem(context, itemURL(baseURL, itemPath, id), headers, (body) =>
      isObject(body) ? body : undefined,
    );
}

/** Pages whose next cursor is read from the body at `cursorPath` and sent as `cursorParam`. */
async function* cursorPages(
  first: URL,
  fetch: Fetch,
  http: HTTPSpec,
  start: PassStart,
): AsyncGenerator<Page> {
  const param = http.pagination?.cursorParam ?? 'cursor';
  let cursor = start.cursor;
  for (;;) {
    const url = withParams(first, { [param]: cursor });
    const { body, records, deprecation } = await fetch(url);
    const raw = getPath(body, http.pagination?.cursorPath ?? '');
    const next = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
    // A repeated cursor would loop forever; an empty page may still carry a next cursor.
    const done = next === '' || next === cursor;
    yield { records, deprecation, cursor: done ? undefined : next };
    if (done) return;
    cursor = next;
  }
}

/** Pages linked by `Link: <…>; rel="next"`; a next page on another origin is refused. */
async function* linkPages(first: URL, fetch: Fetch, start: PassStart): AsyncGenerator<Page> {
  let url =
    start.cursor !== undefined && URL.canParse(start.cursor) ? new URL(start.cursor) : first;
  for (;;) {
    if (url.origin !== first.origin) {
      throw new SyncError(
        'Configuration',
        `next page ${url.origin} is not on ${first.origin}: credentials are not sent elsewhere`,
      );
    }
    const page = await fetch(url);
    const link = linkWithRel(page.link, 'next');
    const next = link === undefined ? undefined : new URL(link, url);
    if (next?.href === url.href) {
      throw pageError('ServerError', url, 'the next link points to the same page');
    }
    yield { records: page.records, deprecation: page.deprecation, cursor: next?.href };
    if (next === undefined) return;
    url = next;
  }
}

/** Pages by `offsetParam`/`limitParam`, until a short page. */
async function* offsetPages(
  first: URL,
  fetch: Fetch,
  http: HTTPSpec,
  size: number,
  start: PassStart,
): AsyncGenerator<Page> {
  const param = http.pagination?.offsetParam ?? 'offset';
  let offset = Number(start.cursor ?? 0);
  if (!Number.isSafeInteger(offset) || offset < 0) offset = 0;
  for (;;) {
    const url = withParams(first, { [param]: String(offset) });
    const { records, deprecation } = await fetch(url);
    offset += records.length;
    const done = records.length < size || records.length === 0;
    yield { records, deprecation, cursor: done ? undefined : String(offset) };
    if (done) return;
  }
}

/** The generic HTTP provider for `context.source` (which must have `http`). */
export function httpProvider(context: ProviderContext): Provider {
  const { source, client, credentials } = context;
  const http = source.http;
  if (http === undefined || source.baseURL === undefined) {
    throw new SyncError('Configuration', 'provider http needs source.baseURL and source.http');
  }
  const baseURL = source.baseURL;
  const headers = authHeaders(http.auth, http.auth ? credentials : undefined).headers;
  const pagination = http.pagination;
  const size = pageSize(context, { configured: pagination?.pageSize });
  const fetch: Fetch = async (url) => {
    const res = await client.request({ url, headers, expectJSON: true });
    const records = http.recordsPath === undefined ? res.json : getPath(res.json, http.recordsPath);
    if (!Array.isArray(records)) {
      const where = http.recordsPath ?? 'the body';
      throw pageError(
        'Configuration',
        url,
        `${where} is not an array of records (check recordsPath)`,
      );
    }
    return { records, body: res.json, deprecation: res.deprecation, link: res.header('link') };
  };
  async function* pages(start: PassStart): AsyncGenerator<Page, void, undefined> {
    const first = firstPageURL(baseURL, http as HTTPSpec, start.since);
    if (pagination !== undefined)
      first.searchParams.set(pagination.limitParam ?? 'limit', String(size));
    switch (pagination?.type) {
      case 'cursor':
        yield* cursorPages(first, fetch, http as HTTPSpec, start);
        return;
      case 'link':
        yield* linkPages(first, fetch, start);
        return;
      case 'offset':
        yield* offsetPages(first, fetch, http as HTTPSpec, size, start);
        return;
      case undefined: {
        const { records, deprecation } = await fetch(first);
        yield { records, deprecation, cursor: undefined };
      }
    }
  }
  const incremental =
    http.updatedField !== undefined &&
    Object.values(http.query ?? {}).some((value: string) => value.includes(SINCE_PLACEHOLDER));
  const fetchById = itemFetcher(context, baseURL, http.itemPath, headers);
  return {
    idField: http.idField ?? 'id',
    updatedField: http.updatedField,
    incremental,
    pages,
    fetchById,
  };
}
