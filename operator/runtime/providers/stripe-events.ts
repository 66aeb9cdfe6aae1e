/**
 * Stripe's events log and webhook endpoints, for the webhook gap check (runtime/gaps/events.ts):
 * `GET /v1/events?created[gt]=&created[lte]=&limit=100&starting_after=` (newest first, 30 days
 * kept; `types[]` when at most 20 types are asked, else filtered here) and
 * `GET /v1/webhook_endpoints` (`url`, `status`, `enabled_events`). A 403 or 404 on the endpoint
 * list (a restricted key without the webhook permission) is no error: the endpoint is unknown.
 */
import { isObject, joinURL } from '../json.ts';
import { pageError, withParams } from './request.ts';
import type { EventLog, ProviderContext, SenderEndpoint, SourceEvent } from './types.ts';

/** Most `types[]` Stripe takes in one list request. */
const MAX_TYPE_PARAMS = 20;

/** The events log of the Stripe account at `base`, asked with `headers`. */
export function stripeEventLog(
  context: ProviderContext,
  base: string,
  headers: Record<string, string>,
): EventLog {
  const { client, source } = context;
  const eventsURL = joinURL(base, '/v1/events');
  const endpointsURL = joinURL(base, '/v1/webhook_endpoints');
  const resource = source.resource ?? '';

  async function* events(
    afterSeconds: number,
    upToSeconds: number,
    types: readonly string[] | undefined,
  ): AsyncGenerator<SourceEvent[], void, undefined> {
    const base = withParams(eventsURL, {
      'created[gt]': String(afterSeconds),
      'created[lte]': String(upToSeconds),
      limit: '100',
    });
    if (types !== undefined && types.length <= MAX_TYPE_PARAMS)
      for (const type of types) base.searchParams.append('types[]', type);
    let after: string | undefined;
    for (;;) {
      const url = withParams(base, { starting_after: after });
      const body = (await client.request({ url, headers, expectJSON: true })).json;
      if (!isObject(body) || !Array.isArray(body.data))
        throw pageError('ServerError', url, 'no data array in the answer');
      const page = body.data.flatMap(toEvent);
      const keep = types === undefined ? page : page.filter((e) => types.includes(e.type));
      if (keep.length > 0) yield keep;
      const last = page.at(-1)?.id;
      if (body.has_more !== true) return;
      if (last === undefined)
        throw pageError('ServerError', url, 'has_more without a last event id');
      after = last;
    }
  }

  const endpoint = (route: string) => findEndpoint(context, endpointsURL, headers, route);
  return { objectType: objectTypeOf(resource), events, endpoint };
}

/** The endpoint whose URL ends with `route`, over every page of the endpoint list. */
async function findEndpoint(
  { client }: ProviderContext,
  endpointsURL: URL,
  headers: Record<string, string>,
  route: string,
): Promise<SenderEndpoint | undefined> {
  let after: string | undefined;
  for (;;) {
    const url = withParams(endpointsURL, { limit: '100', starting_after: after });
    const res = await client.request({
      url,
      headers,
      expectJSON: true,
      passThrough: (status) => status === 403 || status === 404,
    });
    if (res.status === 403 || res.status === 404) return undefined;
    const body = res.json;
    if (!isObject(body) || !Array.isArray(body.data))
      throw pageError('ServerError', url, 'no data array in the answer');
    const list: unknown[] = body.data;
    const found = list.find(
      (e): e is Record<string, unknown> =>
        isObject(e) && typeof e.url === 'string' && pathEndsWith(e.url, route),
    );
    if (found !== undefined) return toEndpoint(found);
    const last = list.at(-1);
    if (body.has_more !== true || !isObject(last) || typeof last.id !== 'string') return undefined;
    after = last.id;
  }
}

/** The object type of a list resource: `customers` → `customer`; undefined when not one word. */
export function objectTypeOf(resource: string): string | undefined {
  return /^[a-z_]+s$/.test(resource) ? resource.slice(0, -1) : undefined;
}

/** Whether `url`'s path (query and trailing slash aside) ends with `route`. */
function pathEndsWith(url: string, route: string): boolean {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return false;
  }
  return path.replace(/\/+$/, '').endsWith(route);
}

function toEvent(raw: unknown): SourceEvent[] {
  if (!isObject(raw) || typeof raw.id !== 'string' || typeof raw.created !== 'number') return [];
  const data = isObject(raw.data) && isObject(raw.data.object) ? raw.data.object : undefined;
  return [
    {
      id: raw.id,
      type: typeof raw.type === 'string' ? raw.type : '',
      created: raw.created,
      objectType: typeof data?.object === 'string' ? data.object : undefined,
    },
  ];
}

function toEndpoint(raw: Record<string, unknown>): SenderEndpoint {
  const enabled = Array.isArray(raw.enabled_events)
    ? raw.enabled_events.filter((e): e is string => typeof e === 'string')
    : ['*'];
  return { status: raw.status === 'disabled' ? 'disabled' : 'enabled', enabledEvents: enabled };
}
