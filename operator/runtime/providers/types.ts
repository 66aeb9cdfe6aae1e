/** The contract every source provider implements: an async generator of pages. */
import type { Clock } from '../../lib/clock.ts';
import type { z } from 'zod';
import type { Source as SourceSchema } from '../../api/index.ts';
import type { HttpClient } from '../http/client.ts';
import type { DeprecationNotice } from '../http/headers.ts';

/** One page read from a source. Memory is bounded by one page: pages are not kept. */
export interface Page {
  /** The records of the page as received (validated later). */
  records: unknown[];
  /** Opaque resume point after this page; undefined when this was the last page of the pass. */
  cursor: string | undefined;
  /** Deprecation announced by the response of this page, if any. */
  deprecation: DeprecationNotice | undefined;
}

/** One record read by id. */
export interface Item {
  /** The record as received (validated later). */
  record: unknown;
  /** Deprecation announced by the response, if any. */
  deprecation: DeprecationNotice | undefined;
}

/** Where a pass starts. */
export interface PassStart {
  /** Resume after the page whose {@link Page.cursor} this is; undefined: from the beginning. */
  cursor?: string | undefined;
  /** Only records updated at or after this value, where the provider supports it. */
  since?: string | undefined;
}

/** A source provider, configured for one run. */
export interface Provider {
  /** Dot path of the record id. */
  idField: string;
  /** Dot path of the last-modified field, when the source has one. */
  updatedField: string | undefined;
  /** Whether {@link PassStart.since} filters the pass (incremental syncs). */
  incremental: boolean;
  /** Reads the pages of one pass, in order. Throws a classified SyncError. */
  pages(start: PassStart): AsyncGenerator<Page, void, undefined>;
  /**
   * Reads one record by id, where the source allows it (quarantined records are retried so);
   * undefined when the source has no such record (404). Throws a classified SyncError.
   */
  fetchById?: ((id: string) => Promise<Item | undefined>) | undefined;
  /** The source's own log of change events (Stripe's), for the webhook gap check. */
  eventLog?: EventLog | undefined;
}

/** One event of a source's events log. */
export interface SourceEvent {
  /** The event id: the delivery id a webhook of it carries (Stripe: evt_…). */
  id: string;
  type: string;
  /** When the event was created, epoch seconds. */
  created: number;
  /** The `object` of the changed object (customer), when the event says. */
  objectType: string | undefined;
}

/** The sender endpoint of an Integration, as the source lists it. */
export interface SenderEndpoint {
  status: 'enabled' | 'disabled';
  /** The event types it sends; `*` is every type. */
  enabledEvents: string[];
}

/** A source's events log and sender endpoints (Stripe: /v1/events, /v1/webhook_endpoints). */
export interface EventLog {
  /** The object type the synced resource's events carry (customers → customer), if known. */
  objectType: string | undefined;
  /** Events created in `(afterSeconds, upToSeconds]`, newest first, page by page. Throws SyncError. */
  events(
    afterSeconds: number,
    upToSeconds: number,
    types: readonly string[] | undefined,
  ): AsyncGenerator<SourceEvent[], void, undefined>;
  /**
   * The endpoint whose URL ends with `route`; undefined when none does or the key may not list
   * endpoints (403/404: a restricted key). Throws SyncError on other failures.
   */
  endpoint(route: string): Promise<SenderEndpoint | undefined>;
}

/** The `spec.source` of an Integration. */
export type Source = z.infer<typeof SourceSchema>;

/** What a provider needs from the run. */
export interface ProviderContext {
  source: Source;
  /** Client toward the source (rate limited, retrying, classifying). */
  client: HttpClient;
  /** The value of TRIBUTARY_SOURCE_CREDENTIALS, if any. */
  credentials: string | undefined;
  /** Records per page requested. Default 100. */
  pageSize?: number | undefined;
  /** Time source for provider-specific pacing. */
  clock: Clock;
  /** Stops provider pacing waits early. */
  signal?: AbortSignal | undefined;
}
