/**
 * Writing a run's result: the versioned JSON document on the termination message file, at most
 * 4 KiB, and the exit code that tells a retryable failure from a non-retryable one.
 */
import {
  closeSync,
  ftruncateSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  EXIT_NOT_RETRYABLE,
  EXIT_RETRYABLE,
  MAX_RESULT_BYTES,
  RESULT_VERSION,
  type RunResult,
  type SchemaChanges,
} from '../api/index.ts';

/** A result without its version field; {@link writeResult} stamps it. */
export type ResultBody = Omit<RunResult, 'version'>;

/** The exit code of a run that ended with `result`. */
export function exitCodeOf(result: ResultBody): number {
  if (result.outcome !== 'Failed') return 0;
  return result.error?.retryable === false ? EXIT_NOT_RETRYABLE : EXIT_RETRYABLE;
}

/**
 * Serializes a result within {@link MAX_RESULT_BYTES}: the webhook's missed samples are cut first
 * (the count says how many), then released ids (a held record left out stays held and is
 * released again by the next pass), then samples dropped, then messages and schema change lists
 * shortened, so the counts always arrive.
 */
export function serializeResult(body: ResultBody): string {
  let result: RunResult = { version: RESULT_VERSION, ...body };
  let text = JSON.stringify(result);
  if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) return text;
  if (result.webhook?.missedSamples !== undefined) {
    const webhook = { ...result.webhook };
    delete webhook.missedSamples;
    result = { ...result, webhook };
    text = JSON.stringify(result);
    if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) return text;
  }
  const released = cutReleased(result);
  if (released !== undefined) return released;
  const trimmed: RunResult = structuredClone(result);
  if (trimmed.quarantine) delete trimmed.quarantine.released;
  if (trimmed.quarantine) delete trimmed.quarantine.samples;
  if (trimmed.drift) delete trimmed.drift.samples;
  if (trimmed.error) trimmed.error.message = trimmed.error.message.slice(0, 256);
  if (trimmed.deprecation) trimmed.deprecation.message = trimmed.deprecation.message.slice(0, 256);
  if (trimmed.schemaChanges) trimmed.schemaChanges = shortenChanges(trimmed.schemaChanges);
  if (trimmed.webhook?.unavailable)
    trimmed.webhook.unavailable = trimmed.webhook.unavailable.slice(0, 128);
  text = JSON.stringify(trimmed);
  if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) return text;
  const { outcome, stats, webhook } = trimmed;
  return JSON.stringify({
    version: RESULT_VERSION,
    outcome,
    stats,
    ...(webhook ? { webhook } : {}),
  });
}

/** The result with as many released ids as fit, halving the list; undefined when none fit. */
function cutReleased(result: RunResult): string | undefined {
  const all = result.quarantine?.released ?? [];
  for (let keep = Math.floor(all.length / 2); keep > 0; keep = Math.floor(keep / 2)) {
    const quarantine = { ...result.quarantine, count: result.quarantine?.count ?? 0 };
    const text = JSON.stringify({
      ...result,
      quarantine: { ...quarantine, released: all.slice(0, keep) },
    });
    if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) return text;
  }
  return undefined;
}

/** Schema changes cut to 8 names of at most 128 characters per list, `truncated` if cut. */
function shortenChanges(changes: SchemaChanges): SchemaChanges {
  const cut = (names: string[] | undefined) => names?.slice(0, 8).map((n) => n.slice(0, 128));
  const added = cut(changes.added);
  const removed = cut(changes.removed);
  const shortened =
    JSON.stringify([added, removed]) !== JSON.stringify([changes.added, changes.removed]);
  return {
    ...(added ? { added } : {}),
    ...(removed ? { removed } : {}),
    ...(changes.truncated === true || shortened ? { truncated: true } : {}),
  };
}

/** Writes the result to `path` and returns the exit code the process should end with. */
export function writeResult(path: string, body: ResultBody): number {
  writeFileSync(path, serializeResult(body));
  return exitCodeOf(body);
}

/**
 * Replaces the result at `path` so that a kill at any instant leaves one whole, valid document:
 * a temp file in the same directory renamed over it, or — where that is impossible, as for the
 * kubelet's bind-mounted `/dev/termination-log` in a read-only, non-root container — one write
 * at offset 0 padded with JSON whitespace to the previous length, then a truncate.
 */
export function replaceResultFile(path: string, body: ResultBody): void {
  const text = serializeResult(body);
  const temp = join(dirname(path), `.${basename(path)}.${String(process.pid)}.tmp`);
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
    return;
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing was created, or it is not ours to remove.
    }
  }
  overwriteInPlace(path, text);
}

/** One write at offset 0: trailing spaces cover a longer previous document until the truncate. */
function overwriteInPlace(path: string, text: string): void {
  let previous = 0;
  try {
    previous = statSync(path).size;
  } catch {
    // No previous document: nothing to cover.
  }
  const length = Buffer.byteLength(text);
  const padded = text + ' '.repeat(Math.max(0, Math.min(previous, MAX_RESULT_BYTES) - length));
  const fd = openSync(path, previous > 0 ? 'r+' : 'w');
  try {
    writeSync(fd, padded, 0);
    ftruncateSync(fd, Buffer.byteLength(padded));
  } finally {
    closeSync(fd);
  }
}
