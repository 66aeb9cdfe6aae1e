/**
 * How the chaos tier sizes its scenarios and reports what they measured.
 *
 * `npm test` runs the short form of every scenario; `npm run chaos -- --report` sets
 * `CHAOS_FULL=1` for the full counts of issue 14 and gathers every scenario's figures from
 * `CHAOS_REPORT_DIR` into one report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True for the report's full counts (`CHAOS_FULL=1`). */
export const FULL = process.env.CHAOS_FULL === '1';

/** `short` in `npm test`, `full` in the report. */
export function count<T>(short: T, full: T): T {
  return FULL ? full : short;
}

/** Where scenarios write their figures: `CHAOS_REPORT_DIR`, default a fixed temp dir. */
export function reportDir(): string {
  return process.env.CHAOS_REPORT_DIR ?? join(tmpdir(), 'tributary-chaos');
}

/** A scenario's figures: counts, durations in ms, and a few words. */
export type Figures = Record<string, number | string | boolean | null>;

/**
 * Prints `chaos <scenario> key=value ...` and writes `<scenario>.json` to {@link reportDir}, so
 * the figures show in the test output and reach the report.
 */
export function report(scenario: string, figures: Figures): void {
  const line = Object.entries(figures)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
  console.log(`chaos ${scenario} ${line}`);
  mkdirSync(reportDir(), { recursive: true });
  const document = { scenario, full: FULL, at: new Date().toISOString(), figures };
  writeFileSync(join(reportDir(), `${scenario}.json`), `${JSON.stringify(document, null, 2)}\n`);
}

export { percentile } from '../../../dev/stats.ts';
