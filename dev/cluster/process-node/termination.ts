/** The kubelet reads at most this many bytes of a termination-message file. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** `FallbackToLogsOnError` uses at most this many trailing log lines… */
export const FALLBACK_LOG_LINES = 80;
/** …and of those, at most this many trailing bytes. */
export const FALLBACK_LOG_BYTES = 2048;

/** What is known about a container when it exits, to derive `state.terminated.message`. */
export interface TerminationInput {
  /** Contents of the relocated termination-message file; undefined when it does not exist. */
  file: Buffer | undefined;
  /** `terminationMessagePolicy`; `File` when unset. */
  policy: string | undefined;
  exitCode: number;
  /** The end of the container's log (at least the last `FALLBACK_LOG_BYTES` + 1 bytes). */
  logTail: Buffer;
}

/**
 * The kubelet's `state.terminated.message`: the first 4096 bytes of the termination-message file;
 * with `FallbackToLogsOnError`, an empty file and a non-zero exit code, the last 80 lines of the
 * log truncated to their last 2048 bytes.
 */
export function terminationMessage(input: TerminationInput): string {
  const fromFile = (input.file ?? Buffer.alloc(0))
    .subarray(0, MAX_TERMINATION_MESSAGE_BYTES)
    .toString('utf8');
  if (fromFile !== '' || input.policy !== 'FallbackToLogsOnError' || input.exitCode === 0) {
    return fromFile;
  }
  return tailLog(input.logTail, FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES);
}

/** The last `lines` lines of `log`, then at most its last `bytes` bytes (a circular buffer). */
export function tailLog(log: Buffer, lines: number, bytes: number): string {
  let start = log.length;
  // A trailing newline ends the last line rather than starting an empty one.
  let end = log.length > 0 && log[log.length - 1] === 0x0a ? log.length - 1 : log.length;
  for (let seen = 0; seen < lines && start > 0; seen++) {
    // Buffer#lastIndexOf counts a negative offset from the end, so stop at the start by hand.
    const newline = end > 0 ? log.lastIndexOf(0x0a, end - 1) : -1;
    start = newline + 1;
    end = newline;
    if (newline < 0) break;
  }
  const tail = log.subarray(start);
  return tail.subarray(Math.max(0, tail.length - bytes)).toString('utf8');
}
