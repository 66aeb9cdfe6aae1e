/**
 * The entry of a run inside a Job: read TRIBUTARY_RUN, do the work, write the result. Until the
 * sync runtime lands, `--dry` succeeds without touching any system and a real sync fails with a
 * non-retryable Configuration error saying so: never a silent success.
 */
import { RESULT_PATH, RunEnv, parseRunInput } from '../controller/plan/run-contract.ts';
import { writeResult } from './result.ts';

/** Options of {@link runJob}. */
export interface RunOptions {
  kind: 'sync' | 'drift-check';
  /** Do no I/O toward the source or destination; report success with zero counts. */
  dry: boolean;
  env: NodeJS.ProcessEnv;
}

/** Runs one sync or drift check; returns the process exit code. */
export function runJob({ kind, dry, env }: RunOptions): number {
  const resultPath = env[RunEnv.ResultPath] ?? RESULT_PATH;
  const input = parseRunInput(env[RunEnv.Run]);
  if (!input.ok) {
    const detail = 'detail' in input.problem ? `: ${input.problem.detail}` : '';
    return writeResult(resultPath, {
      outcome: 'Failed',
      error: {
        class: 'Configuration',
        message: `${RunEnv.Run} is ${input.problem.code.toLowerCase()}${detail}`,
        retryable: false,
      },
    });
  }
  if (dry) {
    return writeResult(resultPath, {
      outcome: 'Succeeded',
      stats: { read: 0, written: 0, unchanged: 0, quarantined: 0, failed: 0 },
      ...(input.input.checkpoint ? { checkpoint: input.input.checkpoint } : {}),
    });
  }
  return writeResult(resultPath, {
    outcome: 'Failed',
    error: {
      class: 'Configuration',
      message: `the built-in ${kind} connector is not implemented yet; use a custom connector image or --dry`,
      retryable: false,
    },
  });
}
