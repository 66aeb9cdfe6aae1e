/**
 * Shopify Admin REST lists: `GET /admin/api/{apiVersion}/{resource}.json?limit=N`, records under
 * the key named like the resource, next page by `page_info` from the `Link` rel="next" header,
 * `X-Shopify-Access-Token`, incremental via `updated_at_min`, and pacing from
 * `X-Shopify-Shop-Api-Call-Limit` so the shared leaky bucket is not run dry. One record:
 * `GET /admin/api/{apiVersion}/{resource}/{id}.json`, under the body's only key (`order`).
 */
import { sleep } from '../../lib/clock.ts';
import { isObject, joinURL } from '../json.ts';
import { linkWithRel } from '../http/headers.ts';
import { fetchItem, pageError, pageSize, withParams } from './request.ts';
import type { Page, PassStart, Provider, ProviderContext } from './types.ts';

/** Options of {@link shopifyPauseMs}. */
export interface CallLimitOptions {
  /** Calls the bucket leaks per second. Default 2 (Shopify standard plans). */
  leakPerSecond?: number;
  /** Share of the bucket above which we slow down, in (0, 1]. Default 0.8. */
  threshold?: number;
}

/**
 * How long to pause before the next call given `X-Shopify-Shop-Api-Call-Limit` (`used/size`):
 * 0 below the threshold, else the time for the bucket to leak back under it, in milliseconds.
 */
export function shopifyPauseMs(value: string | undefined, options: CallLimitOptions = {}): number {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value ?? '');
  if (!match) return 0;
  const used = Number(match[1]);
  const size = Number(match[2]);
  const limit = Math.floor(size * (options.threshold ?? 0.8));
  if (size === 0 || used < limit) return 0;
  return ((used - limit + 1) / (options.leakPerSecond ?? 2)) * 1000;
}

/** The `page_info` of a Link rel="next" header, or undefined on the last page. */
export function nextPageInfo(link: string | undefined): string | undefined {
  const next = linkWithRel(link, 'next');
  if (next === undefined) return undefined;
  return URL.canParse(next)
    ? (new URL(next).searchParams.get('page_info') ?? undefined)
    : undefined;
}

/** The Shopify provider for `context.source`. */
export function shopifyProvider(context: ProviderContext): Provider {
  const { source, client, credentials, clock, signal } = context;
  const resource = source.resource ?? '';
  const endpoint = joinURL(
    source.baseURL ?? '',
    `/admin/api/${source.apiVersion ?? ''}/${resource}.json`,
  );
  const key = resource.split('/').at(-1) ?? resource;
  const headers: Record<string, string> = credentials
    ? { 'x-shopify-access-token': credentials }
    : {};
  const limit = String(pageSize(context, { max: 250 }));

  async function* pages(start: PassStart): AsyncGenerator<Page, void, undefined> {
    let pageInfo = start.cursor;
    for (;;) {
      // Shopify rejects filters next to page_info: the cursor already carries them.
      const url = withParams(endpoint, {
        limit,
        page_info: pageInfo,
        updated_at_min: pageInfo === undefined ? start.since : undefined,
      });
      const res = await client.request({ url, headers, expectJSON: true });
      const records = isObject(res.json) ? res.json[key] : undefined;
      if (!Array.isArray(records)) {
        throw pageError('ServerError', url, `no "${key}" array in the answer`);
      }
      const next = nextPageInfo(res.header('link'));
      yield { records, cursor: next, deprecation: res.deprecation };
      if (next === undefined) return;
      pageInfo = next;
      const pauseMs = shopifyPauseMs(res.header('x-shopify-shop-api-call-limit'));
      if (pauseMs > 0) await sleep(clock, pauseMs, signal);
    }
  }
  const fetchById = (id: string) => {
    const url = joinURL(
      source.baseURL ?? '',
      `/admin/api/${source.apiVersion ?? ''}/${resource}/${encodeURIComponent(id)}.json`,
    );
    return fetchItem(context, url, headers, singleRecord);
  };
  return { idField: 'id', updatedField: 'updated_at', incremental: true, pages, fetchById };
}

/** The record of a Shopify single-resource answer: `{"order": {...}}`. */
function singleRecord(body: unknown): unknown {
  if (!isObject(body)) return undefined;
  const values = Object.values(body);
  return values.length === 1 && isObject(values[0]) ? values[0] : undefined;
}
