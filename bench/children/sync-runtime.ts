/**
 * Measured child of the sync benchmark: one Tributary sync through the same entry as
 * `tributary sync` (`runJobAsync`: TRIBUTARY_RUN parsed and validated, credentials from the
 * environment, result file written after every page), with a silent logger. Prints one
 * measurement line (see bench/lib/process.ts).
 */
import { pino } from 'pino';
import { runJobAsync } from '../../operator/runtime/run.ts';
import { measureAndReport } from '../lib/process.ts';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);

await measureAndReport(async () => {
  const code = await runJobAsync({
    kind: 'sync',
    dry: false,
    env: process.env,
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    sync: { concurrency },
  });
  if (code !== 0) throw new Error(`the sync exited with code ${code}`);
  return { exitCode: code };
});
