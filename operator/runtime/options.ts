/**
 * What every run (sync or drift check) is given, in its own module: the engines and
 * `connect.ts` all read it, and none of them may import another to get it.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../lib/clock.ts';
import type { Log } from '../lib/log.ts';
import type { RunInput } from '../api/run-input.ts';
import type { RetryOptions } from './http/client.ts';

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

/** What connecting to both sides needs of a run: everything but where a run reports. */
export type ConnectOptions = Omit<RunnerOptions, 'resultPath' | 'concurrency'>;
