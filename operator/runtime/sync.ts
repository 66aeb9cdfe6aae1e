/**
 * The sync engine: pages from the source → validate → upsert at the destination → after a page
 * is fully handled, commit a checkpoint. A commit atomically rewrites the result file with an
 * interim result (Failed/Internal, retryable, "interrupted after page N", stats and checkpoint so
 * far), so a run killed at any instant reports its last committed checkpoint through the
 * termination message; the final result replaces it. Nothing is silently lost: every record
 * read is written, unchanged, quarantined with a reason, or the checkpoint stays before it.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../lib/clock.ts';
import type { Log } from '../lib/log.ts';
import type { RunInput } from '../api/run-input.ts';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  laterMark,
  type Carry,
  type Checkpoint,
} from './checkpoint.ts';
import { DestinationWriter, recordVersion } from './destination.ts';
import { SyncError, resultClass, toSyncError } from './errors.ts';
import type { RetryOptions } from './http/client.ts';
import type { DeprecationNotice } from './http/headers.ts';
import { getPath, isObject } from './json.ts';
import { forEachBounded, readAhead } from './pool.ts';
import { createProvider, type Page, type Provider } from './providers/index.ts';
import { connect, withDispatcher } from './connect.ts';
import { replaceResultFile, type ResultBody } from './result.ts';
import { SchemaDrift, compileSchema, type RecordValidator } from './schema.ts';

/** What every run (sync or drift check) is given. */
export interface RunnerOptions {
  /** The parsed TRIBUTARY_RUN document. */
  input: RunInput;
  /** Secret values from TRIBUTARY_SOURCE_CREDENTIALS / TRIBUTARY_DESTINATION_CREDENTIALS. */
  credentials: { source?: string | undefined; destination?: string | undefined };
  /** The result file (TRIBUTARY_RESULT_PATH). */
  resultPath: string;
  log: Log;
  /** Time source for rate limits, retries and pacing. Default the system clock (keep-alive). */
  clock?: Clock | undefined;
  /** Uniform random in [0, 1) for retry jitter. Default Math.random. */
  random?: (() => number) | undefined;
  /** Aborting (SIGTERM) starts nothing new and ends the run as retryable. */
  signal?: AbortSignal | undefined;
  /** In-run retries of transient HTTP failures. Default 4 retries, 200 ms base, 10 s cap. */
  retry?: RetryOptions | undefined;
  /** Destination writes in flight at once. Default 8. */
  concurrency?: number | undefined;
  /** Records per page requested (pagination.pageSize wins). Default 100 (provider maxima apply). */
  pageSize?: number | undefined;
  /** Dispatcher for all requests; default a keep-alive Agent of this run, closed at the end. */
  dispatcher?: Dispatcher | undefined;
}

/** Options of {@link runSync}: interim results go to `resultPath` after each page. */
export type SyncOptions = RunnerOptions;

const MAX_SAMPLES = 10;

/** What a run needs once its configuration was checked. */
interface Prepared {
  provider: Provider;
  writer: DestinationWriter;
  validator: RecordValidator;
  start: Checkpoint;
}

/** Runs one sync and writes its results to `resultPath`; returns the final result. */
export async function runSync(options: SyncOptions): Promise<ResultBody> {
  const run = new SyncRun(options);
  let result: ResultBody;
  try {
    result = await withDispatcher(options, (dispatcher, timeoutMs) =>
      run.run(prepare(options, dispatcher, timeoutMs)),
    );
  } catch (error) {
    result = run.failed(toSyncError(error));
  }
  replaceResultFile(options.resultPath, result);
  options.log.info(
    { outcome: result.outcome, stats: result.stats, checkpoint: result.checkpoint },
    'sync finished',
  );
  return result;
}

/** Checks the configuration and builds the provider, writer and validator. Throws SyncError. */
function prepare(options: SyncOptions, dispatcher: Dispatcher, timeoutMs: number): Prepared {
  const { credentials, log } = options;
  const { input, clock, sourceClient, destinationClient } = connect(
    options,
    'sync',
    dispatcher,
    timeoutMs,
  );
  const decoded = decodeCheckpoint(input.checkpoint);
  if (!decoded.ok)
    log.warn({ problem: decoded.problem }, 'ignoring the checkpoint: starting a full pass');
  return {
    provider: createProvider({
      source: input.source,
      client: sourceClient,
      credentials: credentials.source,
      pageSize: options.pageSize,
      clock,
      signal: options.signal,
    }),
    writer: new DestinationWriter({
      destination: input.destination,
      client: destinationClient,
      integrationUID: input.integration.uid,
      credentials: credentials.destination,
    }),
    validator: compileSchema(input.schema),
    start: decoded.ok ? decoded.checkpoint : {},
  };
}

/** The state of one sync run. */
class SyncRun {
  readonly #options: SyncOptions;
  readonly #stats: NonNullable<ResultBody['stats']> = {
    read: 0,
    written: 0,
    unchanged: 0,
    quarantined: 0,
    failed: 0,
  };
  readonly #samples: { id: string; reason: string }[] = [];
  readonly #deprecations = new Map<string, DeprecationNotice>();
  readonly #drift: SchemaDrift;
  #checkpoint: string | undefined;
  #pages = 0;
  #highWater: string | undefined;

  constructor(options: SyncOptions) {
    this.#options = options;
    this.#drift = new SchemaDrift(options.input.schema);
    this.#checkpoint = options.input.checkpoint;
  }

  /** Reads every page of one pass from the checkpoint on; returns the final result. */
  async run(prepared: Prepared): Promise<ResultBody> {
    const { provider, start } = prepared;
    const since = provider.incremental ? start.since : undefined;
    this.#highWater = since;
    if (start.page !== undefined && start.carry !== undefined) this.#resume(start.carry);
    // The next page downloads while this one is written (readAhead): pages still commit in order.
    for await (const page of readAhead(provider.pages({ cursor: start.page, since }))) {
      this.#throwIfInterrupted();
      await this.#handlePage(prepared, page);
      // The last page is committed by the final result; a kill before it redoes that page.
      if (page.cursor !== undefined)
        this.#commit({ page: page.cursor, since, carry: this.#carry() });
    }
    this.#checkpoint = encodeCheckpoint({
      since: provider.incremental ? this.#highWater : undefined,
    });
    const outcome = this.#stats.quarantined > 0 ? 'PartiallySucceeded' : 'Succeeded';
    return { outcome, ...this.#report(true) };
  }

  /** Takes over the counts and samples of the pages a previous attempt committed. */
  #resume(carry: Carry): void {
    const [read, written, unchanged, quarantined, failed] = carry.s;
    Object.assign(this.#stats, { read, written, unchanged, quarantined, failed });
    for (const { i, r } of carry.q ?? []) this.#samples.push({ id: i, reason: r });
  }

  /** The result of a run that ended with `error`, carrying the last committed checkpoint. */
  failed(error: SyncError): ResultBody {
    const message =
      error.code === 'Interrupted' ? `${error.message}; ${this.#progress()}` : error.message;
    this.#options.log.error(
      { code: error.code, status: error.status, err: message },
      'sync failed',
    );
    return {
      outcome: 'Failed',
      error: {
        class: resultClass(error.code),
        message: message.slice(0, 1024),
        retryable: error.retryable,
      },
      ...this.#report(false),
    };
  }

  #progress(): string {
    return this.#pages === 0 ? 'no page committed' : `resumes after page ${this.#pages}`;
  }

  #throwIfInterrupted(): void {
    if (this.#options.signal?.aborted === true) {
      throw new SyncError('Interrupted', 'interrupted by SIGTERM before the next page');
    }
  }

  /** Validates and writes every record of `page`; throws (page not committed) on a run failure. */
  async #handlePage(prepared: Prepared, page: Page): Promise<void> {
    const number = this.#pages + 1;
    this.#stats.read += page.records.length;
    if (page.deprecation) this.#deprecations.set(page.deprecation.message, page.deprecation);
    let handled = 0;
    const stop = () => this.#options.signal?.aborted === true;
    try {
      await forEachBounded(
        page.records,
        this.#options.concurrency ?? 8,
        async (raw, index) => {
          await this.#handleRecord(prepared, raw, `page ${number} record ${index + 1}`);
          handled++;
        },
        stop,
      );
    } finally {
      this.#stats.failed += page.records.length - handled;
    }
    if (handled < page.records.length)
      throw new SyncError('Interrupted', `interrupted by SIGTERM during page ${number}`);
  }

  /** One record: quarantined with a reason, or written/unchanged at the destination. */
  async #handleRecord(prepared: Prepared, raw: unknown, where: string): Promise<void> {
    const outcome = await this.#processRecord(prepared, raw, where);
    if (outcome.kind === 'quarantined') {
      this.#stats.quarantined++;
      if (this.#samples.length < MAX_SAMPLES) {
        this.#samples.push({ id: outcome.id.slice(0, 256), reason: outcome.reason.slice(0, 512) });
      }
    } else {
      this.#stats[outcome.kind]++;
    }
  }

  /** Checks id and contract, then writes; `where` names a record without a usable id. */
  async #processRecord(
    { provider, validator, writer }: Prepared,
    raw: unknown,
    where: string,
  ): Promise<
    { kind: 'written' | 'unchanged' } | { kind: 'quarantined'; id: string; reason: string }
  > {
    if (!isObject(raw))
      return { kind: 'quarantined', id: where, reason: 'InvalidRecord: not a JSON object' };
    this.#drift.observe(raw);
    const idValue = getPath(raw, provider.idField);
    if ((typeof idValue !== 'string' && typeof idValue !== 'number') || idValue === '') {
      return {
        kind: 'quarantined',
        id: where,
        reason: `InvalidRecord: ${provider.idField}: no record id`,
      };
    }
    const id = String(idValue);
    const problem = validator.check(raw);
    if (problem !== undefined)
      return { kind: 'quarantined', id, reason: `InvalidRecord: ${problem}` };
    if (provider.updatedField !== undefined) {
      this.#highWater = laterMark(this.#highWater, getPath(raw, provider.updatedField));
    }
    const outcome = await writer.write(raw, id, recordVersion(raw, provider.updatedField));
    return outcome.kind === 'quarantined' ? { ...outcome, id } : outcome;
  }

  /** The counts and samples so far, for a checkpoint. */
  #carry(): Carry {
    const { read, written, unchanged, quarantined, failed } = this.#stats;
    return {
      s: [read, written, unchanged, quarantined, failed],
      ...(this.#samples.length > 0
        ? { q: this.#samples.map(({ id, reason }) => ({ i: id, r: reason })) }
        : {}),
    };
  }

  /** Commits a page: the interim result replaces the result file, then a log line says so. */
  #commit(checkpoint: Checkpoint): void {
    this.#pages++;
    this.#checkpoint = encodeCheckpoint(checkpoint);
    const message = `interrupted after page ${this.#pages}`;
    replaceResultFile(this.#options.resultPath, {
      outcome: 'Failed',
      error: { class: 'Internal', message, retryable: true },
      ...this.#report(false),
    });
    this.#options.log.info(
      { page: this.#pages, checkpoint: this.#checkpoint, stats: this.#stats },
      'page committed',
    );
  }

  /** Stats, checkpoint, quarantine, schema changes and deprecation of the run so far. */
  #report(complete: boolean): Omit<ResultBody, 'outcome' | 'error'> {
    const schemaChanges = this.#drift.report(complete);
    const deprecation = this.#deprecation();
    return {
      stats: { ...this.#stats },
      ...(this.#checkpoint !== undefined ? { checkpoint: this.#checkpoint } : {}),
      quarantine: {
        count: this.#stats.quarantined,
        ...(this.#samples.length > 0 ? { samples: [...this.#samples] } : {}),
      },
      ...(schemaChanges ? { schemaChanges } : {}),
      ...(deprecation ? { deprecation } : {}),
    };
  }

  /** All distinct deprecation notices in one message, with the earliest sunset. */
  #deprecation(): ResultBody['deprecation'] {
    const notices = [...this.#deprecations.values()];
    if (notices.length === 0) return undefined;
    const sunsets = notices.flatMap((n) => (n.sunset ? [n.sunset] : [])).sort();
    const message = notices
      .map((n) => n.message)
      .join(' | ')
      .slice(0, 1024);
    return { message, ...(sunsets[0] ? { sunset: sunsets[0] } : {}) };
  }
}
