/**
 * The phases that start runs, both sides' run pods on kwok with the same delay:
 * - skew: the first {@link SKEW_EVERY_MINUTE} objects of each side due every minute, the rest
 *   rarely (the CronJob controller blog's shape), for `skewMs`; due time → Job create p50, p99,
 *   max;
 * - burst: K objects of a side due at the same minute, each side alone ("apart") and then both at
 *   once ("together"): makespan (due time → the last Job's create), p99 skew, and the mutating
 *   requests per run started, from the due time until the last run's pod had time to finish.
 * Times are the audit log's (bench/lib/scale-runs.ts), so both sides are measured alike.
 */
import { waitFor } from '../../dev/cluster/processes.ts';
import { percentile } from './report.ts';
import { isMutating, tally, type Side } from './scale-audit.ts';
import { RUN_POD_MS, schedules } from './scale-objects.ts';
import { waitForAllReconciled, type Round } from './scale-phases.ts';
import { minuteAtOrAfter, onceAt, reschedule, runStarts, type RunStart } from './scale-runs.ts';

/** How many objects per side run every minute in the skew phase. */
export const SKEW_EVERY_MINUTE = 20;
const SIDES: readonly Side[] = ['tributary', 'cronjob'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const range = (k: number) => Array.from({ length: k }, (_, i) => i);
const seconds = (ms: number) => ms / 1000;

/** p50, p99 and max of due → create, seconds; NaN when there is none. */
function skews(starts: readonly RunStart[]): { p50: number; p99: number; max: number } {
  const values = starts.map((s) => s.createdMs - s.dueMs);
  return {
    p50: seconds(percentile(values, 50)),
    p99: seconds(percentile(values, 99)),
    max: values.length === 0 ? Number.NaN : seconds(Math.max(...values)),
  };
}

/** Puts objects `indices` of both sides back on their rare schedules. */
async function restore(round: Round, indices: readonly number[]): Promise<void> {
  const rare = schedules({ count: round.n, everyMinute: 0 });
  await Promise.all(
    SIDES.map((side) => reschedule(round.cluster, side, indices, (i) => rare[i] ?? '')),
  );
}

/** Steady skew: a few objects due every minute for `round.skewMs`, both sides at once. */
export async function skew(round: Round): Promise<void> {
  const base = { phase: 'skew', n: round.n, budget: round.budget };
  const indices = range(Math.min(SKEW_EVERY_MINUTE, round.n));
  await Promise.all(
    SIDES.map((side) => reschedule(round.cluster, side, indices, () => '* * * * *')),
  );
  const fromMs = minuteAtOrAfter(Date.now() + 5000);
  const toMs = fromMs + round.skewMs;
  await sleep(toMs + 20_000 - Date.now());
  const starts = {
    tributary: await runStarts(round.cluster, round.audit, 'tributary', fromMs, toMs),
    cronjob: await runStarts(round.cluster, round.audit, 'cronjob', fromMs, toMs),
  };
  await restore(round, indices);
  const due = indices.length * Math.round(round.skewMs / 60_000);
  const figures = { tributary: skews(starts.tributary), cronjob: skews(starts.cronjob) };
  const note = `${indices.length} objects per side every minute for ${round.skewMs / 60_000} min; due → Job create as the API server received it`;
  for (const metric of ['p50', 'p99', 'max'] as const)
    round.report.add(base, `skew-${metric}-s`, {
      tributary: figures.tributary[metric],
      cronjob: figures.cronjob[metric],
      note,
    });
  round.report.add(base, 'runs-started', {
    tributary: starts.tributary.length,
    cronjob: starts.cronjob.length,
    note: `${due} due on each side`,
  });
}

/** What one side did in one burst. */
interface BurstFigures {
  starts: RunStart[];
  /** Mutating requests from the due time until the last run's pod could have finished. */
  writes: number;
  /** Those requests by verb and resource. */
  byVerb: Record<string, number>;
}

/**
 * How long before a burst's minute its schedules are written: the patches, then Tributary's
 * status write for each changed Integration at its request budget (the CronJob controller writes
 * nothing for a schedule change), with half again as margin.
 */
function leadMs(round: Round, k: number): number {
  return 20_000 + k * 20 + 1.5 * ((k * 1000) / round.budget.qps);
}

/** Waits until `side` created the Jobs of all `k` runs due at `dueMs`, or gives up. */
async function awaitStarts(round: Round, side: Side, k: number, dueMs: number) {
  const timeoutMs = 10 * 60_000 + 3 * ((k * 1000) / round.budget.qps);
  const creates = () =>
    round.audit
      .between(side, dueMs - 60_000, Number.POSITIVE_INFINITY)
      .filter((r) => r.verb === 'create' && r.resource === 'jobs').length;
  try {
    return await waitFor(
      `${k} Jobs of ${side} due at ${new Date(dueMs).toISOString()}`,
      async () => {
        if (creates() < k) return undefined;
        const starts = await runStarts(round.cluster, round.audit, side, dueMs, dueMs + 1);
        return starts.length >= k ? starts : undefined;
      },
      { timeoutMs: Math.max(0, dueMs - Date.now()) + timeoutMs, intervalMs: 3000 },
    );
  } catch {
    return runStarts(round.cluster, round.audit, side, dueMs, dueMs + 1);
  }
}

/** One burst of `k` objects on each of `sides`, due at the same minute. */
async function burstOf(round: Round, k: number, sides: readonly Side[]) {
  const indices = range(k);
  const dueMs = minuteAtOrAfter(Date.now() + leadMs(round, k));
  await Promise.all(sides.map((s) => reschedule(round.cluster, s, indices, () => onceAt(dueMs))));
  if (sides.includes('tributary')) await waitForAllReconciled(round);
  if (Date.now() > dueMs - 2000)
    throw new Error(`burst of ${k}: the schedules were still being written at the due minute`);
  const figures: Partial<Record<Side, BurstFigures>> = {};
  const started = await Promise.all(sides.map((s) => awaitStarts(round, s, k, dueMs)));
  const lastMs = Math.max(dueMs, ...started.flat().map((s) => s.createdMs));
  await sleep(lastMs + RUN_POD_MS + 15_000 - Date.now());
  sides.forEach((side, i) => {
    const all = tally(round.audit.between(side, dueMs, lastMs + RUN_POD_MS + 15_000));
    const byVerb = Object.fromEntries(
      Object.entries(all.byVerb).filter(([key]) => isMutating(key.split(' ')[0] ?? '')),
    );
    figures[side] = { starts: started[i] ?? [], writes: all.mutating, byVerb };
  });
  return { dueMs, figures };
}

/** The figures of one burst size and mode. */
function reportBurst(
  round: Round,
  label: string,
  k: number,
  figures: Partial<Record<Side, BurstFigures & { dueMs: number }>>,
): void {
  const base = { phase: 'burst', n: round.n, budget: round.budget };
  const of = (side: Side, pick: (f: BurstFigures & { dueMs: number }) => number) => {
    const f = figures[side];
    return f === undefined || f.starts.length === 0 ? undefined : pick(f);
  };
  const makespan = (f: BurstFigures & { dueMs: number }) =>
    seconds(Math.max(...f.starts.map((s) => s.createdMs)) - f.dueMs);
  const metric = (name: string, pick: (f: BurstFigures & { dueMs: number }) => number) => {
    round.report.add(base, `${name}-k${k}-${label}`, {
      tributary: of('tributary', pick),
      cronjob: of('cronjob', pick),
      note: `K=${k} due at the same minute, ${label === 'apart' ? 'each side alone' : 'both sides at once'}`,
    });
  };
  metric('makespan-s', makespan);
  metric('skew-p99-s', (f) => skews(f.starts).p99);
  round.report.add(base, `writes-per-run-k${k}-${label}`, {
    tributary: of('tributary', (f) => f.writes / f.starts.length),
    cronjob: of('cronjob', (f) => f.writes / f.starts.length),
    note: `mutating requests by verb: tributary ${JSON.stringify(figures.tributary?.byVerb ?? {})}, cronjob ${JSON.stringify(figures.cronjob?.byVerb ?? {})}`,
  });
  metric('runs-started', (f) => f.starts.length);
}

/** The burst sizes at `n`: 100, 1,000 and n, each at most n. */
export function burstSizes(n: number): number[] {
  return [...new Set([100, 1000, n].filter((k) => k <= n))];
}

/** One burst on `sides`, each side's figures with the due time. */
async function measured(round: Round, k: number, sides: readonly Side[]) {
  const { dueMs, figures } = await burstOf(round, k, sides);
  const out: Partial<Record<Side, BurstFigures & { dueMs: number }>> = {};
  for (const side of sides) {
    const mine = figures[side];
    if (mine !== undefined) out[side] = { ...mine, dueMs };
  }
  return out;
}

/** Burst: for each size, each side alone, then both at once; a size that fails is skipped. */
export async function burst(round: Round): Promise<void> {
  for (const k of burstSizes(round.n)) {
    try {
      const apart = {
        ...(await measured(round, k, ['tributary'])),
        ...(await measured(round, k, ['cronjob'])),
      };
      reportBurst(round, 'apart', k, apart);
      reportBurst(round, 'together', k, await measured(round, k, SIDES));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      round.report.skip({ phase: 'burst', n: round.n, budget: round.budget }, `K=${k}: ${reason}`);
    }
  }
  await restore(round, range(Math.max(...burstSizes(round.n))));
}
