/**
 * What every provider does alike to ask for a page: the page size it requests, the page's URL,
 * and the error that names the request when the answer is not a page.
 */
import { SyncError, type SyncErrorCode } from '../errors.ts';
import { describeRequest } from '../http/client.ts';
import type { Item, ProviderContext } from './types.ts';

/** Records per page when neither the source nor the run says. */
const DEFAULT_PAGE_SIZE = 100;

/**
 * Records per page to request: `configured` (the source's own setting), else the run's, else
 * 100; at most `max`, the provider's limit.
 */
export function pageSize(
  context: ProviderContext,
  { max = Infinity, configured }: { max?: number; configured?: number | undefined } = {},
): number {
  return Math.min(max, configured ?? context.pageSize ?? DEFAULT_PAGE_SIZE);
}

/** A copy of `base` with `params` set in order; undefined values are left out. */
export function withParams(base: URL, params: Record<string, string | undefined>): URL {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url;
}

/** The error of a page request whose answer is unusable: `GET <url>: <what>`. */
export function pageError(code: SyncErrorCode, url: URL, what: string): SyncError {
  return new SyncError(code, `${describeRequest('GET', url)}: ${what}`);
}

/**
 * GET one record at `url`: `pick` finds it in the JSON body (undefined: the answer is not a
 * record). A 404 is no such record: undefined.
 */
export async function fetchItem(
  context: ProviderContext,
  url: URL,
  headers: Record<string, string>,
  pick: (body: unknown) => unknown,
): Promise<Item | undefined> {
  const res = await context.client.request({
    url,
    headers,
    expectJSON: true,
    passThrough: (status) => status === 404,
  });
  if (res.status === 404) return undefined;
  const record = pick(res.json);
  if (record === undefined) throw pageError('ServerError', url, 'no record in the answer');
  return { record, deprecation: res.deprecation };
}
