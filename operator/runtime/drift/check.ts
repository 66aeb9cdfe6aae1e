/**
 * The drift check (`tributary drift-check`): reads every record of the source (the sync's
 * providers, a full pass) and of the destination (`destination.list`, paginated like the generic
 * HTTP provider), reduces each to (id, fingerprint of the contracted fields), sorts both sides
 * with an external sort whose memory is bounded whatever the data size (see spill.ts), and
 * merge-joins them: `missing` (source only), `unexpected` (destination only), `mismatched`.
 *
 * Report mode never writes. Repair mode re-applies missing and mismatched records through the
 * sync's destination writer, under a version of their own (see destination.ts); unexpected
 * records are reported, never deleted.
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
import { connectRun, type RunParts } from '../connect.ts';
import { throwIfInterrupted, type SyncError } from '../errors.ts';
import { isObject, recordId, type JSONObject } from '../json.ts';
import type { RunnerOptions } from '../options.ts';
import { forEachBounded } from '../pool.ts';
import type { Provider } from '../providers/index.ts';
import { httpProvider } from '../providers/http.ts';
import { Deprecations, failure, interim, reportRun, zeroStats } from '../report.ts';
import { replaceResultFile, type ResultBody } from '../result.ts';
import { countDifference, differences, emptyTally, type Difference } from './compare.ts';
import { listSource, repairVersion } from './destination.ts';
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

/** What an interrupted drift check says. */
const INTERRUPTED = 'drift check interrupted by SIGTERM';

/** What a run needs once its configuration was checked. */
interface Prepared extends Pick<RunParts, 'writer' | 'validator'> {
  source: Provider;
  destination: Provider;
  fields: readonly string[] | undefined;
  repair: boolean;
}

/** Runs one drift check and writes its result to `resultPath`; returns the result. */
export async function runDriftCheck(options: DriftOptions): Promise<ResultBody> {
  replaceResultFile(options.resultPath, interim('interrupted before the drift check ended'));
  const dir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'tributary-drift-'));
  const run = new DriftRun(options, dir);
  try {
    return await reportRun(
      options,
      'drift check',
      (dispatcher, timeoutMs) => run.run(prepare(options, dispatcher, timeoutMs)),
      (error) => run.failed(error),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks the configuration and builds both sides, the writer and the validator. */
function prepare(options: DriftOptions, dispatcher: Dispatcher, timeoutMs: number): Prepared {
  const { credentials } = options;
  const parts = connectRun(options, 'drift-check', dispatcher, timeoutMs);
  const { input, clock, destinationClient, provider, writer, validator } = parts;
  return {
    source: provider,
    destination: httpProvider({
      clock,
      signal: options.signal,
      pageSize: options.pageSize,
      source: listSource(input.destination, (credentials.destination ?? '') !== ''),
      client: destinationClient,
      credentials: credentials.destination,
    }),
    writer,
    validator,
    fields: contractedFields(input.schema),
    repair: input.policy.drift.mode === 'Repair',
  };
}

/** The state of one drift check. */
class DriftRun {
  readonly #options: DriftOptions;
  readonly #dir: string;
  readonly #stats = zeroStats();
  readonly #tally = emptyTally();
  readonly #deprecations = new Deprecations();
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
      ...this.#deprecations.report(),
    };
  }

  /** The result of a run that ended with `error`. */
  failed(error: SyncError): ResultBody {
    return {
      ...failure(this.#options.log, 'drift check', error),
      stats: { ...this.#stats },
      ...this.#deprecations.report(),
    };
  }

  async #readSource({ source, validator, fields, repair }: Prepared, sorter: ExternalSorter) {
    for await (const page of source.pages({})) {
      throwIfInterrupted(this.#options.signal, INTERRUPTED);
      this.#deprecations.note(page.deprecation);
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
      throwIfInterrupted(this.#options.signal, INTERRUPTED);
      for (const raw of page.records) {
        this.#destinationRead++;
        const id = isObject(raw) ? recordId(raw, destination.idField) : undefined;
        if (id === undefined) this.#destinationWithoutId++;
        else sorter.add({ id, hash: fingerprint(raw as JSONObject, fields) });
      }
    }
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
    throwIfInterrupted(this.#options.signal, INTERRUPTED);
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
    throwIfInterrupted(this.#options.signal, INTERRUPTED);
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
}
