/**
 * The run report both engines (sync, drift check) share: the scaffold that runs the work with
 * the run's dispatcher, turns any failure into a Failed result, writes the result file and logs
 * the end; the zero counts; and the run's deprecation notices, merged.
 * Each engine adds only what it reports besides (checkpoint and quarantine, or drift counts).
 */
import type { Dispatcher } from 'undici';
import type { Log } from '../lib/log.ts';
import { withDispatcher } from './connect.ts';
import { resultClass, toSyncError, type SyncError } from './errors.ts';
import type { DeprecationNotice } from './http/headers.ts';
import type { RunnerOptions } from './options.ts';
import { replaceResultFile, type ResultBody } from './result.ts';

/** The record counts of a run. */
export type Stats = NonNullable<ResultBody['stats']>;

/** A fresh set of zero counts (a new object each call: callers count into it). */
export function zeroStats(): Stats {
  return { read: 0, written: 0, unchanged: 0, quarantined: 0, failed: 0 };
}

/** What a run's name reads as in log messages: `sync finished`, `drift check failed`. */
export type RunLabel = 'sync' | 'drift check';

/**
 * Runs `work` with the run's dispatcher; any failure (of `work` or of setting up) becomes the
 * result `failed` makes of it. Writes the result file, logs the end, returns the result.
 */
export async function reportRun(
  options: RunnerOptions,
  label: RunLabel,
  work: (dispatcher: Dispatcher, timeoutMs: number) => Promise<ResultBody>,
  failed: (error: SyncError) => ResultBody,
): Promise<ResultBody> {
  let result: ResultBody;
  try {
    result = await withDispatcher(options, work);
  } catch (error) {
    result = failed(toSyncError(error));
  }
  replaceResultFile(options.resultPath, result);
  const { outcome, stats, checkpoint, drift } = result;
  options.log.info({ outcome, stats, checkpoint, drift }, `${label} finished`);
  return result;
}

/**
 * The outcome and error of a run that ended with `error`, logged once; `message` replaces the
 * error's own when the run knows more (how far it got).
 */
export function failure(
  log: Log,
  label: RunLabel,
  error: SyncError,
  message = error.message,
): Pick<ResultBody, 'outcome' | 'error'> {
  log.error({ code: error.code, status: error.status, err: message }, `${label} failed`);
  return {
    outcome: 'Failed',
    error: {
      class: resultClass(error.code),
      message: message.slice(0, 1024),
      retryable: error.retryable,
    },
  };
}

/**
 * The outcome and error of an interim result: what the result file says while the run goes on,
 * so that a kill at that instant reads as a retryable failure saying `message`.
 */
export function interim(message: string): Pick<ResultBody, 'outcome' | 'error'> {
  return { outcome: 'Failed', error: { class: 'Internal', message, retryable: true } };
}

/** The distinct deprecation notices a run's responses announced (by message). */
export class Deprecations {
  readonly #notices = new Map<string, DeprecationNotice>();

  /** Keeps `notice`, if any; a repeated message is kept once. */
  note(notice: DeprecationNotice | undefined): void {
    if (notice) this.#notices.set(notice.message, notice);
  }

  /** All distinct notices in one message, with the earliest sunset; empty when there are none. */
  report(): Pick<ResultBody, 'deprecation'> {
    const notices = [...this.#notices.values()];
    if (notices.length === 0) return {};
    const sunsets = notices.flatMap((n) => (n.sunset ? [n.sunset] : [])).sort();
    const message = notices
      .map((n) => n.message)
      .join(' | ')
      .slice(0, 1024);
    return { deprecation: { message, ...(sunsets[0] ? { sunset: sunsets[0] } : {}) } };
  }
}
