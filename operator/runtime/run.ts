/**
 * The entry of a run inside a Job: read TRIBUTARY_RUN and the credentials from the environment,
 * do the work, write the result, and tell the exit code. `--dry` succeeds without touching any
 * system; `sync` runs the engine ({@link runSync}); `drift-check` compares the two systems
 * ({@link runDriftCheck}).
 */
import { createLogger, runLogKeys, type Log } from '../lib/log.ts';
import { RESULT_PATH, RunEnv, parseRunInput, type RunInput } from '../api/run-input.ts';
import { runDriftCheck, type DriftOptions } from './drift/check.ts';
import { zeroStats } from './report.ts';
import { exitCodeOf, writeResult } from './result.ts';
import { runSync, type SyncOptions } from './sync.ts';

/** Options of {@link runJobAsync}. */
export interface RunOptions {
  kind: 'sync' | 'drift-check';
  /** Do no I/O toward the source or destination; report success with zero counts. */
  dry: boolean;
  env: NodeJS.ProcessEnv;
  /** Logger of the run. Default pino JSON on stdout. */
  log?: Log | undefined;
  /**
   * Aborting it stops the run (nothing new starts) and ends it retryable. Default: a signal
   * aborted by SIGTERM or SIGINT of this process.
   */
  signal?: AbortSignal | undefined;
  /** Engine tuning passed to {@link runSync} (clock, retries, concurrency, dispatcher). */
  sync?:
    | Partial<Omit<SyncOptions, 'input' | 'credentials' | 'resultPath' | 'log' | 'signal'>>
    | undefined;
  /** Drift-check tuning passed to {@link runDriftCheck} (clock, spill budget, dispatcher). */
  drift?:
    | Partial<Omit<DriftOptions, 'input' | 'credentials' | 'resultPath' | 'log' | 'signal'>>
    | undefined;
}

type Decided = { code: number } | { input: RunInput; resultPath: string };

/** Handles everything that is decided without I/O: bad input, --dry. */
function decide({ dry, env }: RunOptions): Decided {
  const resultPath = env[RunEnv.ResultPath] ?? RESULT_PATH;
  const input = parseRunInput(env[RunEnv.Run]);
  if (!input.ok) {
    const detail = 'detail' in input.problem ? `: ${input.problem.detail}` : '';
    const message = `${RunEnv.Run} is ${input.problem.code.toLowerCase()}${detail}`;
    // Also said on stderr: someone running the image by hand reads no termination message.
    process.stderr.write(`tributary: ${message} (a run is started by the operator, in a Job)\n`);
    return {
      code: writeResult(resultPath, {
        outcome: 'Failed',
        error: { class: 'Configuration', message, retryable: false },
      }),
    };
  }
  if (dry) {
    return {
      code: writeResult(resultPath, {
        outcome: 'Succeeded',
        stats: zeroStats(),
        ...(input.input.checkpoint ? { checkpoint: input.input.checkpoint } : {}),
      }),
    };
  }
  return { input: input.input, resultPath };
}

/** A signal aborted by SIGTERM/SIGINT, and a function that removes the handlers. */
function terminationSignal(log: Log): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    log.warn(
      { signal: name },
      'stopping: nothing new starts; the last committed checkpoint stands',
    );
    controller.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/** Runs one sync or drift check; resolves to the process exit code. */
export async function runJobAsync(options: RunOptions): Promise<number> {
  const decided = decide(options);
  return 'code' in decided ? decided.code : sync(decided, options);
}

/** Runs the engine with the environment's credentials; resolves to the exit code. */
async function sync(
  decided: { input: RunInput; resultPath: string },
  options: RunOptions,
): Promise<number> {
  const log = options.log ?? createLogger({ name: `tributary-${options.kind}` });
  const { integration, attempt, kind, dueTime } = decided.input;
  const runLog = log.child({
    namespace: integration.namespace,
    ...runLogKeys({
      integration: integration.name,
      uid: integration.uid,
      job: options.env[RunEnv.JobName] ?? '',
      kind,
      attempt,
      dueTime,
    }),
  });
  const termination = options.signal ? undefined : terminationSignal(runLog);
  try {
    const common = {
      input: decided.input,
      credentials: {
        source: options.env[RunEnv.SourceCredentials],
        destination: options.env[RunEnv.DestinationCredentials],
      },
      resultPath: decided.resultPath,
      log: runLog,
      signal: options.signal ?? termination?.signal,
    };
    const result =
      options.kind === 'drift-check'
        ? await runDriftCheck({ ...options.drift, ...common })
        : await runSync({ ...options.sync, ...common });
    return exitCodeOf(result);
  } finally {
    termination?.release();
    if (!options.log) log.flush();
  }
}
