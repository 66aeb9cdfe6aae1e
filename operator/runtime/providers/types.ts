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
