/**
 * The sync engine: pages from the source → validate → upsert at the destination → after a page
 * is fully handled, commit a checkpoint. A commit atomically rewrites the result file with an
 * interim result (Failed/Internal, retryable, "interrupted after page N", stats and checkpoint so
 * far), so a run killed at any instant reports its last committed checkpoint through the
 * termination message; the final result replaces it. Nothing is silently lost: every record
 * read is written, unchanged, quarantined with a reason, or the checkpoint stays before it.
 * After the pass, the held quarantined records it did not read are retried by id
 * (quarantine.ts); the final result says which were released.
 */
import type { Dispatcher } from 'undici';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  laterMark,
  type Carry,
  type Checkpoint,
} from './checkpoint.ts';
import { connectRun, type RunParts } from './connect.ts';
import { recordVersion } from './destination.ts';
import { SyncError, throwIfInterrupted, toSyncError } from './errors.ts';
import { getPath, isObject, recordId } from './json.ts';
import type { RunnerOptions } from './options.ts';
import { GapDetector } from './gaps/detector.ts';
import { EventLogCheck } from './gaps/events.ts';
import { incrementalSince } from './gaps/window.ts';
import { forEachBounded, readAhead } from './pool.ts';
import type { Page } from './providers/index.ts';
import { QuarantineTracker } from './quarantine.ts';
import { Deprecations, failure, interim, reportRun, zeroStats } from './report.ts';
import { replaceResultFile, type ResultBody } from './result.ts';
import { SchemaDrift } from './schema-drift.ts';

/** Options of {@link runSync}: interim results go to `resultPath` after each page. */
export type SyncOptions = RunnerOptions;

/** What a run needs once its configuration was checked. */
interface Prepared extends Pick<RunParts, 'provider' | 'writer' | 'validator'> {
  start: Checkpoint;
  /** Gap detection, with a webhook and a source whose records carry an updated value. */
  gaps: GapDetector | undefined;
  /** Gap detection from the source's events log, with a webhook and a source that has one. */
  events: EventLogCheck | undefined;
}

/** Runs one sync and writes its results to `resultPath`; returns the final result. */
export async function runSync(options: SyncOptions): Promise<ResultBody> {
  const run = new SyncRun(options);
  return reportRun(
    options,
    'sync',
    (dispatcher, timeoutMs) => run.run(prepare(options, dispatcher, timeoutMs)),
    (error) => run.failed(error),
  );
}

/** Checks the configuration and builds the provider, writer and validator. Throws SyncError. */
function prepare(options: SyncOptions, dispatcher: Dispatcher, timeoutMs: number): Prepared {
  const parts = connectRun(options, 'sync', dispatcher, timeoutMs);
  const { input, provider, writer, validator } = parts;
  const decoded = decodeCheckpoint(input.checkpoint);
  if (!decoded.ok)
    options.log.warn({ problem: decoded.problem }, 'ignoring the checkpoint: starting a full pass');
  const start = decoded.ok ? decoded.checkpoint : {};
  return {
    provider,
    writer,
    validator,
    start,
    gaps: gapDetector(options, parts, start, dispatcher),
    events: eventLogCheck(options, parts, start, dispatcher),
  };
}

/** What gap detection reads of the checkpoint a pass starts from. */
function gapStart(start: Checkpoint) {
  return {
    mark: start.mark,
    resumed: start.page !== undefined,
    cut: start.cut,
    counts: start.carry?.w,
  };
}

/** The pass's events-log check, when the run input asks for gap detection and the source has a log. */
function eventLogCheck(
  options: SyncOptions,
  { input, provider, clock }: RunParts,
  start: Checkpoint,
  dispatcher: Dispatcher,
): EventLogCheck | undefined {
  if (input.webhook === undefined || provider.eventLog === undefined) return undefined;
  if (provider.updatedField !== undefined) return undefined; // records are judged instead
  return new EventLogCheck({
    webhook: input.webhook,
    integration: input.integration,
    log: provider.eventLog,
    dispatcher,
    nowMs: clock.now(),
    start: gapStart(start),
    logger: options.log,
    signal: options.signal,
  });
}

/** The pass's gap detection, when the run input asks for it and records can be judged. */
function gapDetector(
  options: SyncOptions,
  { input, provider, clock }: RunParts,
  start: Checkpoint,
  dispatcher: Dispatcher,
): GapDetector | undefined {
  if (input.webhook === undefined) return undefined;
  if (provider.updatedField === undefined) {
    if (provider.eventLog === undefined)
      options.log.info('gap detection off: the source records carry no updated value');
    return undefined;
  }
  return new GapDetector({
    webhook: input.webhook,
    uid: input.integration.uid,
    dispatcher,
    nowMs: clock.now(),
    start: gapStart(start),
    signal: options.signal,
  });
}

/** The state of one sync run. */
class SyncRun {
  readonly #options: SyncOptions;
  readonly #stats = zeroStats();
  readonly #quarantine: QuarantineTracker;
  readonly #deprecations = new Deprecations();
  readonly #drift: SchemaDrift;
  #checkpoint: string | undefined;
  #gaps: GapDetector | undefined;
  #events: EventLogCheck | undefined;
  #pages = 0;
  #highWater: string | undefined;
  /** Whether this attempt read the whole source: no incremental filter, not resumed. */
  #full = false;

  constructor(options: SyncOptions) {
    this.#options = options;
    this.#drift = new SchemaDrift(options.input.schema);
    this.#checkpoint = options.input.checkpoint;
    this.#quarantine = new QuarantineTracker(options.input.quarantine?.ids);
  }

  /** Reads every page of one pass from the checkpoint on; returns the final result. */
  async run(prepared: Prepared): Promise<ResultBody> {
    const { provider, start, gaps, events } = prepared;
    this.#gaps = gaps;
    this.#events = events;
    // With gap detection the pass reads again what the last one was too young to judge.
    const since = !provider.incremental
      ? undefined
      : gaps
        ? incrementalSince(start.since, start.mark)
        : start.since;
    this.#highWater = provider.incremental ? start.since : undefined;
    if (start.page !== undefined && start.carry !== undefined) this.#resume(start.carry);
    const full = since === undefined && start.page === undefined;
    // The next page downloads while this one is written (readAhead): pages still commit in order.
    for await (const page of readAhead(provider.pages({ cursor: start.page, since }))) {
      throwIfInterrupted(this.#options.signal, 'interrupted by SIGTERM before the next page');
      await this.#handlePage(prepared, page);
      await gaps?.judgePage();
      // The last page is committed by the final result; a kill before it redoes that page.
      if (page.cursor !== undefined) {
        const cut = gaps?.cut() ?? events?.cut();
        this.#commit({ page: page.cursor, since, carry: this.#carry(), mark: start.mark, cut });
      }
    }
    await this.#retryHeld(prepared);
    await events?.run();
    this.#full = full;
    this.#checkpoint = encodeCheckpoint({
      since: provider.incremental ? this.#highWater : undefined,
      mark: gaps?.cut() ?? events?.mark(),
    });
    const outcome = this.#stats.quarantined > 0 ? 'PartiallySucceeded' : 'Succeeded';
    return { outcome, ...this.#report(true) };
  }

  /**
   * Takes over the counts of the pages a previous attempt committed. Not their quarantined
   * records: that attempt's result reported them and the operator holds them now.
   */
  #resume(carry: Carry): void {
    const [read, written, unchanged, quarantined, failed] = carry.s;
    Object.assign(this.#stats, { read, written, unchanged, quarantined, failed });
  }

  /**
   * Retries by id the held records the pass did not read, where the provider allows it. A
   * record that cannot be read (gone: 404, or an error) stays held; a retried record never moves
   * the incremental high-water mark (the pass did not read what changed before it).
   */
  async #retryHeld(prepared: Prepared): Promise<void> {
    const ids = this.#quarantine.pending();
    const fetchById = prepared.provider.fetchById;
    if (ids.length === 0) return;
    if (fetchById === undefined) {
      this.#options.log.info({ held: ids.length }, 'held records wait for a pass to read them');
      return;
    }
    for (const id of ids) {
      throwIfInterrupted(
        this.#options.signal,
        'interrupted by SIGTERM while retrying held records',
      );
      const item = await fetchById(id).catch((error: unknown) => {
        const failure = toSyncError(error);
        if (failure.code === 'Interrupted') throw failure;
        this.#options.log.warn({ id, err: failure.message }, 'held record not retried');
        return undefined;
      });
      if (item === undefined) continue;
      this.#stats.read++;
      this.#deprecations.note(item.deprecation);
      await this.#handleRecord(prepared, item.record, `held record ${id}`, false);
    }
  }

  /** The result of a run that ended with `error`, carrying the last committed checkpoint. */
  failed(error: SyncError): ResultBody {
    const message =
      error.code === 'Interrupted' ? `${error.message}; ${this.#progress()}` : error.message;
    return { ...failure(this.#options.log, 'sync', error, message), ...this.#report(false) };
  }

  #progress(): string {
    return this.#pages === 0 ? 'no page committed' : `resumes after page ${this.#pages}`;
  }

  /** Validates and writes every record of `page`; throws (page not committed) on a run failure. */
  async #handlePage(prepared: Prepared, page: Page): Promise<void> {
    const number = this.#pages + 1;
    this.#stats.read += page.records.length;
    this.#deprecations.note(page.deprecation);
    let handled = 0;
    const stop = () => this.#options.signal?.aborted === true;
    try {
      await forEachBounded(
        page.records,
        this.#options.concurrency ?? 8,
        async (raw, index) => {
          await this.#handleRecord(prepared, raw, `page ${number} record ${index + 1}`, true);
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
  async #handleRecord(
    prepared: Prepared,
    raw: unknown,
    where: string,
    advance: boolean,
  ): Promise<void> {
    const outcome = await this.#processRecord(prepared, raw, where, advance);
    if (outcome.kind === 'quarantined') {
      this.#stats.quarantined++;
      this.#quarantine.quarantined(outcome.id, outcome.reason);
    } else {
      this.#stats[outcome.kind]++;
      this.#quarantine.passed(outcome.id);
    }
  }

  /**
   * Checks id and contract, then writes; `where` names a record without a usable id; `advance`:
   * the record may move the incremental high-water mark.
   */
  async #processRecord(
    { provider, validator, writer }: Prepared,
    raw: unknown,
    where: string,
    advance: boolean,
  ): Promise<
    | { kind: 'written' | 'unchanged'; id: string }
    | { kind: 'quarantined'; id: string; reason: string }
  > {
    if (!isObject(raw))
      return { kind: 'quarantined', id: where, reason: 'InvalidRecord: not a JSON object' };
    this.#drift.observe(raw);
    const id = recordId(raw, provider.idField);
    if (id === undefined) {
      return {
        kind: 'quarantined',
        id: where,
        reason: `InvalidRecord: ${provider.idField}: no record id`,
      };
    }
    const problem = validator.check(raw);
    if (problem !== undefined)
      return { kind: 'quarantined', id, reason: `InvalidRecord: ${problem}` };
    if (advance && provider.updatedField !== undefined) {
      this.#highWater = laterMark(this.#highWater, getPath(raw, provider.updatedField));
    }
    const version = recordVersion(raw, provider.updatedField);
    const outcome = await writer.write(raw, id, version);
    if (advance && outcome.kind !== 'quarantined' && provider.updatedField !== undefined)
      this.#gaps?.note(id, getPath(raw, provider.updatedField), version);
    return { ...outcome, id };
  }

  /** The counts so far, for a checkpoint. */
  #carry(): Carry {
    const { read, written, unchanged, quarantined, failed } = this.#stats;
    const s: Carry['s'] = [read, written, unchanged, quarantined, failed];
    return this.#gaps === undefined ? { s } : { s, w: this.#gaps.counts() };
  }

  /** Commits a page: the interim result replaces the result file, then a log line says so. */
  #commit(checkpoint: Checkpoint): void {
    this.#pages++;
    this.#checkpoint = encodeCheckpoint(checkpoint);
    const message = `interrupted after page ${this.#pages}`;
    replaceResultFile(this.#options.resultPath, { ...interim(message), ...this.#report(false) });
    this.#options.log.info(
      { page: this.#pages, checkpoint: this.#checkpoint, stats: this.#stats },
      'page committed',
    );
  }

  /** Stats, checkpoint, quarantine, schema changes and deprecation of the run so far. */
  #report(complete: boolean): Omit<ResultBody, 'outcome' | 'error'> {
    const schemaChanges = this.#drift.report(complete);
    return {
      stats: { ...this.#stats },
      ...(this.#checkpoint !== undefined ? { checkpoint: this.#checkpoint } : {}),
      quarantine: this.#quarantine.report(this.#stats.quarantined, complete && this.#full),
      ...(schemaChanges ? { schemaChanges } : {}),
      ...this.#deprecations.report(),
      // Once per pass, on the result that completes it (a resumed attempt carries the counts).
      ...(complete ? (this.#gaps?.report() ?? this.#events?.report()) : {}),
    };
  }
}
