/**
 * Writing a run's result: the versioned JSON document on the termination message file, at most
 * 4 KiB, and the exit code that tells a retryable failure from a non-retryable one.
 */
import { writeFileSync } from 'node:fs';
import {
  EXIT_NOT_RETRYABLE,
  EXIT_RETRYABLE,
  MAX_RESULT_BYTES,
  RESULT_VERSION,
  type RunResult,
} from '../api/index.ts';

/** A result without its version field; {@link writeResult} stamps it. */
export type ResultBody = Omit<RunResult, 'version'>;

/** The exit code of a run that ended with `result`. */
export function exitCodeOf(result: ResultBody): number {
  if (result.outcome !== 'Failed') return 0;
  return result.error?.retryable === false ? EXIT_NOT_RETRYABLE : EXIT_RETRYABLE;
}

/**
 * Serializes a result within {@link MAX_RESULT_BYTES}: samples are dropped first, then messages
 * shortened, so the counts always arrive.
 */
export function serializeResult(body: ResultBody): string {
  const result: RunResult = { version: RESULT_VERSION, ...body };
  let text = JSON.stringify(result);
  if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) return text;
  const trimmed: RunResult = structuredClone(result);
  if (trimmed.quarantine) delete trimmed.quarantine.samples;
  if (trimmed.drift) delete trimmed.drift.samples;
  if (trimmed.error) trimmed.error.message = trimmed.error.message.slice(0, 256);
  if (trimmed.deprecation) trimmed.deprecation.message = trimmed.deprecation.message.slice(0, 256);
  text = JSON.stringify(trimmed);
  return Buffer.byteLength(text) <= MAX_RESULT_BYTES
    ? text
    : JSON.stringify({ version: RESULT_VERSION, outcome: trimmed.outcome, stats: trimmed.stats });
}

/** Writes the result to `path` and returns the exit code the process should end with. */
export function writeResult(path: string, body: ResultBody): number {
  writeFileSync(path, serializeResult(body));
  return exitCodeOf(body);
}
