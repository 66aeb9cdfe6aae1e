/**
 * The drift check (`tributary drift-check`): reads every record of the source (the sync's
 * providers, a full pass) and of the destination (`destination.list`, paginated like the generic
 * HTTP provider), reduces each to (id, fingerprint of the contracted fields), sorts both sides
 * with an external sort whose memory is bounded whatever the data size (see spill.ts), and
 * merge-joins them: `missing` (source only), `unexpected` (destination only), `mismatched`.
 *
 * Report mode never writes. Repair mode re-applies missing and mismatched records through the
 * sync's {@link DestinationWriter}; unexpected records are reported, never deleted. A repair's
 * Idempotency-Key is the sync's derivation — (integration UID, id, version) — with the version
 * qualified by this due run and what the destination held (see {@link repairVersion}): the plain
 * sync key would be answered 409 by a destination that accepted it before and later lost or
 * changed the record, so it could never repair; the qualified key still makes retries and
 * replays of one drift run idempotent.
 *
 * Source records the sync would quarantine (not an object, no id, breaking `spec.schema`) are
 * not compared: the sync never writes them. Stats of a drift run: `read` source records read,
 * `written` repairs applied, `unchanged` repairs the destination had already applied,
 * `quarantined` source records skipped plus repairs the destination refused, `failed` 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { DestinationWriter, recordVersion, type Destination } from '../destination.ts';
import { SyncError, resultClass, toSyncError } from '../errors.ts';
import type { DeprecationNotice } from '../http/headers.ts';
import { getPath, isObject, type JSONObject } from '../json.ts';
import { forEachBounded } from '../pool.ts';
import { createProvider, type Page, type Provider } from '../providers/index.ts';
import { httpProvider } from '../providers/http.ts';
import type { Source } from '../providers/types.ts';
import { connect, withDispatcher } from '../connect.ts';
import { replaceResultFile, type ResultBody } from '../result.ts';
import type { RunnerOptions } from '../sync.ts';
import { compileSchema, type RecordValidator } from '../schema.ts';
import { countDifference, differences, emptyTally, type Difference } from './compare.ts';
import { contractedFields, fingerprint } from './fingerprint.ts';
import { ExternalSorter, type SortedStream } from './spill.ts';

/** Options of {@link runDriftCheck}. */
export interface DriftOptions extends RunnerOptions {
  /** Parent directory of the run's spill directory. Default `os.tmpdir()`. */
  tmpDir?: string | undefined;
  /** Entries per side held in memory before a sorted run is spilled. Default 100_000. */
  spillRecords?: number | undefined;
  /** Characters per side (ids, fingerprints, Repair payloads) held before a spill. Default 32 Mi. */
  spillChars?: number | undefined;
  /** Run files merged at once. Default 64. */
  maxFanIn?: number | undefined;
}

/** Repairs collected before they are sent (bounds the memory of pending repairs). */
const REPAIR_BATCH = 256;

/** What a run needs once its configuration was checked. */
interface Prepared {
  source: Provider;
  destination: Provider;
  writer: DestinationWriter;
  validator: RecordValidator;
  fields: readonly string[] | undefined;
  repair: boolean;
}

/** Runs one drift check and writes its result to `resultPath`; returns the result. */
export async function runDriftCheck(options: DriftOptions): Promise<ResultBody> {
  replaceResultFile(options.resultPath, {
    outcome: 'Failed',
    error: {
      class: 'Internal',
      message: 'interrupted before the drift check ended',
      retryable: true,
    },
  });
  const dir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'tributary-drift-'));
  const run = new DriftRun(options, dir);
  let result: ResultBody;
  try {
    result = await withDispatcher(options, (dispatcher, timeoutMs) =>
      run.run(prepare(options, dispatcher, timeoutMs)),
    );
  } catch (error) {
    result = run.failed(toSyncError(error));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  replaceResultFile(options.resultPath, result);
  options.log.info(
    { outcome: result.outcome, drift: result.drift, stats: result.stats },
    'drift check finished',
  );
  return result;
}

/** The destination's list endpoint as a generic HTTP source, authenticated like its writes. */
export function listSource(destination: Destination, hasCredentials: boolean): Source {
  const list = destination.list;
  if (list === undefined) {
    throw new SyncError('Configuration', 'a drift check needs spec.destination.list');
  }
  const url = new URL(list.url);
  const auth = destination.auth ?? (hasCredentials ? { type: 'bearer' as const } : undefined);
  return {
    provider: 'http',
    baseURL: url.origin,
    http: {
      path: url.pathname,
      ...(url.search === '' ? {} : { query: Object.fromEntries(url.searchParams) }),
      ...(list.recordsPath === undefined ? {} : { recordsPath: list.recordsPath }),
      ...(list.pagination === undefined ? {} : { pagination: list.pagination }),
      idField: list.idField ?? 'id',
      ...(auth === undefined ? {} : { auth }),
    },
  };
}

/**
 * The version a repair writes `record` under: the sync's record version, qualified by the due
 * run and the destination's fingerprint (`absent` for a missing record).
 */
export function repairVersion(
  record: JSONObject,
  updatedField: string | undefined,
  dueTime: string,
  destinationHash: string | undefined,
): string {
  return `${recordVersion(record, updatedField)}#repair@${dueTime}:${destinationHash ?? 'absent'}`;
}

/** Checks the configuration and builds both sides, the writer and the validator. */
function prepare(options: DriftOptions, dispatcher: Dispatcher, timeoutMs: number): Prepared {
  const { credentials } = options;
  const { input, clock, sourceClient, destinationClient } = connect(
    options,
    'drift-check',
    dispatcher,
    timeoutMs,
  );
  const list = listSource(input.destination, (credentials.destination ?? '') !== '');
  const side = { clock, signal: options.signal, pageSize: options.pageSize };
  return {
    source: createProvider({
      ...side,
      source: input.source,
      client: sourceClient,
      credentials: credentials.source,
    }),
    destination: httpProvider({
      ...side,
      source: list,
      client: destinationClient,
      credentials: credentials.destination,
    }),
    writer: new DestinationWriter({
      destination: input.destination,
      client: destinationClient,
      integrationUID: input.integration.uid,
      credentials: credentials.destination,
    }),
    validator: compileSchema(input.schema),
    fields: contractedFields(input.schema),
    repair: input.policy.drift.mode === 'Repair',
  };
}

/** The state of one drift check. */
class DriftRun {
  readonly #options: DriftOptions;
  readonly #dir: string;
  readonly #stats: NonNullable<ResultBody['stats']> = {
    read: 0,
    written: 0,
    unchanged: 0,
    quarantined: 0,
    failed: 0,
  };
  readonly #tally = emptyTally();
  readonly #deprecations = new Map<string, DeprecationNotice>();
  #destinationRead = 0;
  #destinationWithoutId = 0;
  #refusedRepairs = 0;

  constructor(options: DriftOptions, dir: string) {
    this.#options = options;
    this.#dir = dir;
  }

  /** Reads both sides, compares them, repairs when asked; returns the final result. */
  async run(prepared: Prepared): Promise<ResultBody> {
    const sorter = (name: string) =>
      new ExternalSorter({
        dir: this.#dir,
        name,
        maxRecords: this.#options.spillRecords,
        maxChars: this.#options.spillChars,
        maxFanIn: this.#options.maxFanIn,
      });
    const source = sorter('source');
    const destination = sorter('destination');
    await Promise.all([
      this.#readSource(prepared, source),
      this.#readDestination(prepared, destination),
    ]);
    const streams = [source.sorted(), destination.sorted()] as const;
    this.#options.log.info(
      {
        sourceRead: this.#stats.read,
        sourceCompared: source.count,
        destinationRead: this.#destinationRead,
        destinationWithoutId: this.#destinationWithoutId,
        spillFiles: source.filesWritten + destination.filesWritten,
      },
      'both sides read and sorted; comparing',
    );
    try {
      await this.#compare(prepared, ...streams);
    } finally {
      for (const stream of streams) stream.close();
    }
    const outcome = this.#refusedRepairs > 0 ? 'PartiallySucceeded' : 'Succeeded';
    return {
      outcome,
      stats: { ...this.#stats },
      drift: this.#drift(prepared.repair),
      ...this.#deprecation(),
    };
  }

  /** The result of a run that ended with `error`. */
  failed(error: SyncError): ResultBody {
    this.#options.log.error(
      { code: error.code, status: error.status, err: error.message },
      'drift check failed',
    );
    return {
      outcome: 'Failed',
      error: {
        class: resultClass(error.code),
        message: error.message.slice(0, 1024),
        retryable: error.retryable,
      },
      stats: { ...this.#stats },
      ...this.#deprecation(),
    };
  }

  async #readSource({ source, validator, fields, repair }: Prepared, sorter: ExternalSorter) {
    for await (const page of source.pages({})) {
      this.#notePage(page);
      for (const raw of page.records) {
        this.#stats.read++;
        const id = isObject(raw) ? recordId(raw, source.idField) : undefined;
        if (id === undefined || validator.check(raw as JSONObject) !== undefined) {
          this.#stats.quarantined++;
          continue;
        }
        const record = raw as JSONObject;
        sorter.add({
          id,
          hash: fingerprint(record, fields),
          payload: repair ? JSON.stringify(record) : undefined,
        });
      }
    }
  }

  async #readDestination({ destination, fields }: Prepared, sorter: ExternalSorter) {
    for await (const page of destination.pages({})) {
      this.#throwIfInterrupted();
      for (const raw of page.records) {
        this.#destinationRead++;
        const id = isObject(raw) ? recordId(raw, destination.idField) : undefined;
        if (id === undefined) this.#destinationWithoutId++;
        else sorter.add({ id, hash: fingerprint(raw as JSONObject, fields) });
      }
    }
  }

  #notePage(page: Page): void {
    this.#throwIfInterrupted();
    if (page.deprecation) this.#deprecations.set(page.deprecation.message, page.deprecation);
  }

  /** Merge-joins the sorted sides; in Repair mode sends repairs in bounded batches. */
  async #compare(prepared: Prepared, source: SortedStream, destination: SortedStream) {
    let batch: Difference[] = [];
    for (const difference of differences(source, destination)) {
      countDifference(this.#tally, difference);
      if (!prepared.repair || difference.kind === 'unexpected') continue;
      batch.push(difference);
      if (batch.length >= REPAIR_BATCH) {
        await this.#repair(prepared, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.#repair(prepared, batch);
  }

  async #repair({ writer, source }: Prepared, batch: readonly Difference[]): Promise<void> {
    this.#throwIfInterrupted();
    const { dueTime } = this.#options.input;
    await forEachBounded(
      batch,
      this.#options.concurrency ?? 8,
      async (difference) => {
        if (difference.kind === 'unexpected') return;
        const record = JSON.parse(difference.source.payload ?? '{}') as JSONObject;
        const seen = difference.kind === 'mismatched' ? difference.destination.hash : undefined;
        const version = repairVersion(record, source.updatedField, dueTime, seen);
        const outcome = await writer.write(record, difference.id, version);
        if (outcome.kind === 'quarantined') {
          this.#stats.quarantined++;
          this.#refusedRepairs++;
          this.#options.log.warn({ id: difference.id, reason: outcome.reason }, 'repair refused');
        } else {
          this.#stats[outcome.kind]++;
        }
      },
      () => this.#options.signal?.aborted === true,
    );
    this.#throwIfInterrupted();
  }

  #throwIfInterrupted(): void {
    if (this.#options.signal?.aborted === true) {
      throw new SyncError('Interrupted', 'drift check interrupted by SIGTERM');
    }
  }

  #drift(repair: boolean): NonNullable<ResultBody['drift']> {
    const { missing, unexpected, mismatched, samples } = this.#tally;
    const kept = Object.fromEntries(Object.entries(samples).filter(([, ids]) => ids.length > 0));
    return {
      missing,
      unexpected,
      mismatched,
      ...(repair ? { repaired: this.#stats.written } : {}),
      ...(Object.keys(kept).length > 0 ? { samples: kept } : {}),
    };
  }

  /** All distinct deprecation notices in one message, with the earliest sunset. */
  #deprecation(): Pick<ResultBody, 'deprecation'> {
    const notices = [...this.#deprecations.values()];
    if (notices.length === 0) return {};
    const sunsets = notices.flatMap((n) => (n.sunset ? [n.sunset] : [])).sort();
    const message = notices
      .map((n) => n.message)
      .join(' | ')
      .slice(0, 1024);
    return { deprecation: { message, ...(sunsets[0] ? { sunset: sunsets[0] } : {}) } };
  }
}

/** The id of `record` at `path` as a string, or undefined when it has no usable id. */
function recordId(record: JSONObject, path: string): string | undefined {
  const value = getPath(record, path);
  if ((typeof value !== 'string' && typeof value !== 'number') || value === '') return undefined;
  return String(value);
}
