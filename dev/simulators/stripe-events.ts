/**
 * The Stripe simulator's events log and webhook endpoints.
 * - `GET /v1/events?limit=&starting_after=&created[gt|gte|lt|lte]=&type=&types[]=`: one event per
 *   dataset update (`{object}.updated`, e.g. `customer.updated`), id `evt_{object}_{seq}`,
 *   `created` = the update's time, `data.object` = the record as it is now; newest first (by
 *   `created`, ties by id, both descending), like Stripe.
 * - `GET /v1/webhook_endpoints`: the endpoints a test set (`url`, `status: enabled|disabled`), or
 *   the 403 a restricted key gets (or a 404) when the test says so.
 */
import type { Dataset, SimRecord } from './dataset.ts';
import { limitParam } from './provider.ts';
import { ControlError } from './server.ts';

/** A webhook endpoint as a test configures it. */
export interface SimWebhookEndpoint {
  url: string;
  status: 'enabled' | 'disabled';
}

/** A Stripe event as `/v1/events` lists it. */
export interface SimEvent {
  id: string;
  object: 'event';
  type: string;
  created: number;
  data: { object: SimRecord };
}

/** The object name of a resource: `customers` → `customer`. */
export function objectName(resource: string): string {
  return resource.replace(/s$/, '');
}

/** The event id of change `seq` of a resource's dataset. */
export function eventId(resource: string, seq: number): string {
  return `evt_${objectName(resource)}_${String(seq).padStart(8, '0')}`;
}

/** Every event of `datasets`, newest first. `shape` gives a record its Stripe form. */
export function allEvents(
  datasets: readonly Dataset[],
  shape: (record: SimRecord, object: string) => SimRecord,
): SimEvent[] {
  const events = datasets.flatMap((dataset) => {
    const object = objectName(dataset.resource);
    return dataset.changes().map((change): SimEvent => ({
      id: eventId(dataset.resource, change.seq),
      object: 'event',
      type: `${object}.updated`,
      created: change.at,
      data: { object: shape(dataset.record(change.index), object) },
    }));
  });
  return events.sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

const CREATED: [string, (created: number, bound: number) => boolean][] = [
  ['created[gt]', (c, b) => c > b],
  ['created[gte]', (c, b) => c >= b],
  ['created[lt]', (c, b) => c < b],
  ['created[lte]', (c, b) => c <= b],
  ['created', (c, b) => c === b],
];

/** One page of `/v1/events` over `events` (newest first): `{data, has_more}`. */
export function eventsPage(
  events: readonly SimEvent[],
  params: URLSearchParams,
): { data: SimEvent[]; has_more: boolean } {
  const limit = limitParam(params, 'limit', 10, 100);
  const types = [...params.getAll('types[]'), ...params.getAll('type')];
  let kept = events.filter((event) => types.length === 0 || types.includes(event.type));
  for (const [name, passes] of CREATED) {
    const raw = params.get(name);
    if (raw === null) continue;
    const bound = Number(raw);
    if (!Number.isInteger(bound)) throw new ControlError(400, `Invalid integer: ${raw}`);
    kept = kept.filter((event) => passes(event.created, bound));
  }
  const after = params.get('starting_after');
  if (after !== null) {
    const at = kept.findIndex((event) => event.id === after);
    if (at < 0) throw new ControlError(400, `No such event: '${after}'`);
    kept = kept.slice(at + 1);
  }
  return { data: kept.slice(0, limit), has_more: kept.length > limit };
}

/** `/v1/webhook_endpoints` as a list body, with ids `we_{n}`. */
export function endpointsList(endpoints: readonly SimWebhookEndpoint[]): Record<string, unknown> {
  return {
    object: 'list',
    data: endpoints.map((endpoint, i) => ({
      id: `we_sim${String(i + 1).padStart(6, '0')}`,
      object: 'webhook_endpoint',
      enabled_events: ['*'],
      ...endpoint,
    })),
    has_more: false,
    url: '/v1/webhook_endpoints',
  };
}
