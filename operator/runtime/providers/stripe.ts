/**
 * Stripe list endpoints: `GET /v1/{resource}?limit=N&starting_after=<last id>`, records in
 * `data`, more pages while `has_more`. Stripe lists have no updated-at filter: no incremental.
 * One record: `GET /v1/{resource}/{id}`. The events log (stripe-events.ts) serves gap detection.
 */
import { isObject, joinURL } from '../json.ts';
import { fetchItem, pageError, pageSize, withParams } from './request.ts';
import { stripeEventLog } from './stripe-events.ts';
import type { Page, PassStart, Provider, ProviderContext } from './types.ts';

/** Default Stripe API base URL. */
export const STRIPE_BASE_URL = 'https://api.stripe.com';

/** The Stripe provider for `context.source`. */
export function stripeProvider(context: ProviderContext): Provider {
  const { source, client, credentials } = context;
  const endpoint = joinURL(source.baseURL ?? STRIPE_BASE_URL, `/v1/${source.resource ?? ''}`);
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = `Bearer ${credentials}`;
  if (source.apiVersion) headers['stripe-version'] = source.apiVersion;
  const limit = String(pageSize(context, { max: 100 }));

  async function* pages(start: PassStart): AsyncGenerator<Page, void, undefined> {
    let after = start.cursor;
    for (;;) {
      const url = withParams(endpoint, { limit, starting_after: after });
      const res = await client.request({ url, headers, expectJSON: true });
      const body = res.json;
      if (!isObject(body) || !Array.isArray(body.data)) {
        throw pageError('ServerError', url, 'no data array in the answer');
      }
      const last: unknown = body.data.at(-1);
      const lastId = isObject(last) && typeof last.id === 'string' ? last.id : undefined;
      const more = body.has_more === true;
      if (more && lastId === undefined) {
        // Stopping here would silently drop the remaining pages.
        throw pageError('ServerError', url, 'has_more without a last record id');
      }
      yield { records: body.data, cursor: more ? lastId : undefined, deprecation: res.deprecation };
      if (!more) return;
      after = lastId;
    }
  }
  const fetchById = (id: string) =>
    fetchItem(context, joinURL(endpoint.href, `/${encodeURIComponent(id)}`), headers, (body) =>
      isObject(body) ? body : undefined,
    );
  const eventLog = stripeEventLog(context, source.baseURL ?? STRIPE_BASE_URL, headers);
  return { idField: 'id', updatedField: undefined, incremental: false, pages, fetchById, eventLog };
}
