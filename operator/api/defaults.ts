/**
 * Built-in policy defaults and policy resolution: built-in default < ReconcilePolicy <
 * `Integration.spec.overrides`. Pure: no I/O, no clock.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { formatDuration, parseDuration } from './formats.ts';
import type { ReconcilePolicySpec } from './policy.ts';
import { RUN_DEFAULTS, RunPolicy, resolveRun } from './run.ts';

const HOUR = 3_600_000;

/** The policy in force for one Integration, every field resolved. */
export const EffectivePolicy = z.strictObject({
  sync: z
    .strictObject({
      interval: z
        .string()
        .max(32)
        .optional()
        .describe('Time between sync runs (a duration); absent when a schedule is in force.'),
      schedule: z
        .string()
        .max(128)
        .optional()
        .describe('Cron schedule of sync runs; absent when an interval is in force.'),
      timeZone: z.string().max(64).describe('IANA time zone the schedule is read in.'),
      jitter: z
        .string()
        .max(4)
        .describe('Deterministic spread of start times, as a percentage of the period.'),
      startingDeadline: z
        .string()
        .max(32)
        .optional()
        .describe('How late a due run may still start; later, it is counted as missed.'),
      concurrencyPolicy: z
        .enum(['Forbid', 'Replace'])
        .describe('Forbid: a due run waits for the running one. Replace: it replaces it.'),
    })
    .describe('When sync runs happen.'),
  retry: z
    .strictObject({
      maxAttempts: z.int().describe('Attempts per due run, the first included.'),
      initialInterval: z.string().max(32).describe('Delay before the first retry (a duration).'),
      backoffCoefficient: z.number().describe('Factor each retry delay grows by.'),
      maxInterval: z.string().max(32).describe('Longest delay between attempts (a duration).'),
      jitter: z
        .enum(['Full', 'None'])
        .describe('Full: each delay is drawn uniformly below its cap. None: exact delays.'),
    })
    .describe('How failed attempts are retried.'),
  timeouts: z
    .strictObject({
      request: z.string().max(32).describe('Limit of one HTTP request of a run (a duration).'),
      run: z.string().max(32).describe("Limit of a whole run: the Job's activeDeadlineSeconds."),
    })
    .describe('Time limits of runs.'),
  drift: z
    .strictObject({
      interval: z
        .string()
        .max(32)
        .optional()
        .describe('Time between drift checks (a duration); absent when a schedule is in force.'),
      schedule: z
        .string()
        .max(128)
        .optional()
        .describe('Cron schedule of drift checks; absent when an interval is in force.'),
      timeZone: z.string().max(64).describe('IANA time zone the schedule is read in.'),
      mode: z
        .enum(['Report', 'Repair', 'Off'])
        .describe(
          'Report: only count differences. Repair: also re-apply missing and mismatched records. ' +
            'Off: no drift checks run.',
        ),
      tolerance: z
        .strictObject({
          records: z.int().describe('Differences allowed before Drifted turns True.'),
        })
        .describe('What the Drifted condition tolerates.'),
    })
    .describe('When and how drift checks run.'),
  freshness: z
    .strictObject({
      maxAge: z
        .string()
        .max(32)
        .describe('Age of the last successful sync after which Stale turns True (a duration).'),
    })
    .describe('When data counts as stale.'),
  quarantine: z
    .strictObject({
      maxRecords: z
        .int()
        .describe('Quarantined records of one sync above which Degraded turns True.'),
    })
    .describe('How many set-aside records are tolerated.'),
  volume: z
    .strictObject({
      mode: z.enum(['Enforce', 'Off']).describe('Enforce: check every pass; Off: no check.'),
      minRatio: z.number().describe('Share of the recent median below which a pass is anomalous.'),
      maxRatio: z
        .number()
        .describe('Multiple of the recent median above which a pass is anomalous.'),
      window: z.int().describe('Earlier successful passes the median is taken over.'),
    })
    .describe('The volume guard of VolumeAnomaly.'),
  rateLimit: z
    .strictObject({
      requestsPerSecond: z.number().describe('Sustained requests per second toward the provider.'),
      burst: z.int().describe('Requests allowed at once above the sustained rate.'),
    })
    .describe('How fast runs call the provider.'),
  history: z
    .strictObject({
      successfulRuns: z.int().describe('Finished successful Jobs kept.'),
      failedRuns: z.int().describe('Finished failed Jobs kept.'),
    })
    .describe('How many finished run Jobs are kept.'),
  run: RunPolicy.optional().describe(
    'Settings of every run pod (resources always resolved); absent in status written before ' +
      'run settings existed.',
  ),
});
/** The policy in force for one Integration, every field resolved. */
export type EffectivePolicy = z.infer<typeof EffectivePolicy>;

/** The built-in defaults, the lowest layer of resolution. `freshness.maxAge` is derived. */
export const BUILT_IN_DEFAULTS = {
  sync: { interval: '15m', timeZone: 'Etc/UTC', jitter: '10%', concurrencyPolicy: 'Forbid' },
  retry: {
    maxAttempts: 5,
    initialInterval: '30s',
    backoffCoefficient: 2,
    maxInterval: '30m',
    jitter: 'Full',
  },
  timeouts: { request: '30s', run: '30m' },
  drift: { interval: '6h', timeZone: 'Etc/UTC', mode: 'Report', tolerance: { records: 0 } },
  freshness: {},
  quarantine: { maxRecords: 100 },
  volume: { mode: 'Enforce', minRatio: 0.1, maxRatio: 10, window: 5 },
  rateLimit: { requestsPerSecond: 10, burst: 20 },
  history: { successfulRuns: 3, failedRuns: 5 },
  run: RUN_DEFAULTS,
} as const satisfies ReconcilePolicySpec;

type Layer = ReconcilePolicySpec | undefined;
type Trigger = { interval?: string | undefined; schedule?: string | undefined };

/** Merges one section field by field; the later layer wins for each field it sets. */
function mergeSection<T extends object>(sections: readonly (T | undefined)[]): Partial<T> {
  const merged: Partial<T> = {};
  for (const section of sections) {
    for (const [key, value] of Object.entries(section ?? {})) {
      if (value !== undefined) Object.assign(merged, { [key]: value });
    }
  }
  return merged;
}

/**
 * interval and schedule are one choice, not two fields: the highest layer that sets either
 * decides both, so an override `schedule` is never shadowed by a policy `interval`.
 */
function resolveTrigger(sections: readonly (Trigger | undefined)[]): Trigger {
  for (const section of [...sections].reverse()) {
    if (section?.schedule !== undefined) return { schedule: section.schedule };
    if (section?.interval !== undefined) return { interval: section.interval };
  }
  return {};
}

/**
 * Longest gaps already computed, by time zone and schedule, oldest first. Every reconcile
 * resolves the policy, and fifty fires of a yearly schedule took cron-parser about a second of
 * stepping through days: at 1,000 yearly Integrations that was 88 % of the operator's CPU (the
 * scale benchmark's capacity phase, docs/performance.md). Bounded; the oldest goes first.
 */
const cronGaps = new Map<string, number | undefined>();
const CRON_GAPS_KEPT = 10_000;
/** Fires looked at: up to 50, and no more once two or more span over a leap year. */
const CRON_FIRES = 50;
const CRON_SPAN_MS = 367 * 24 * 60 * 60 * 1000;

/** The longest gap between the first fire times of a cron schedule, or undefined if invalid. */
function longestCronGap(schedule: string, timeZone: string): number | undefined {
  const key = `${timeZone} ${schedule}`;
  if (cronGaps.has(key)) return cronGaps.get(key);
  const gap = computeCronGap(schedule, timeZone);
  if (cronGaps.size >= CRON_GAPS_KEPT) cronGaps.delete(cronGaps.keys().next().value ?? '');
  cronGaps.set(key, gap);
  return gap;
}

function computeCronGap(schedule: string, timeZone: string): number | undefined {
  try {
    const expression = CronExpressionParser.parse(schedule, {
      tz: timeZone,
      currentDate: new Date('2026-01-01T00:00:00Z'),
    });
    const fires: number[] = [];
    while (fires.length < CRON_FIRES && expression.hasNext()) {
      fires.push(expression.next().getTime());
      if (fires.length >= 2 && (fires.at(-1) ?? 0) - (fires[0] ?? 0) > CRON_SPAN_MS) break;
    }
    let longest = 0;
    for (let i = 1; i < fires.length; i++) {
      longest = Math.max(longest, (fires[i] ?? 0) - (fires[i - 1] ?? 0));
    }
    return longest > 0 ? longest : undefined;
  } catch {
    return undefined;
  }
}

/** Stale after three missed runs, and never sooner than an hour. */
export function defaultMaxAge(sync: EffectivePolicy['sync']): string {
  const gap =
    sync.schedule !== undefined
      ? longestCronGap(sync.schedule, sync.timeZone)
      : parseDuration(sync.interval ?? '');
  return formatDuration(Math.max(HOUR, 3 * (gap ?? 0)));
}

/**
 * Resolves the policy in force: built-in defaults < `policy` (a ReconcilePolicy spec) <
 * `overrides` (`Integration.spec.overrides`), field by field.
 */
export function resolvePolicy(policy: Layer, overrides: Layer): EffectivePolicy {
  const layers = [BUILT_IN_DEFAULTS as ReconcilePolicySpec, policy ?? {}, overrides ?? {}];
  const section = <K extends keyof ReconcilePolicySpec>(key: K) =>
    layers.map((layer) => layer[key]);

  const syncFields = mergeSection(section('sync'));
  const sync = {
    ...syncFields,
    interval: undefined,
    schedule: undefined,
    ...resolveTrigger(section('sync')),
  } as EffectivePolicy['sync'];
  const driftFields = mergeSection(section('drift'));
  const drift = {
    ...driftFields,
    interval: undefined,
    schedule: undefined,
    tolerance: mergeSection(section('drift').map((d) => d?.tolerance)),
    ...resolveTrigger(section('drift')),
  } as EffectivePolicy['drift'];
  const freshness = mergeSection(section('freshness'));

  return EffectivePolicy.parse({
    sync: withoutUndefined(sync),
    retry: mergeSection(section('retry')),
    timeouts: mergeSection(section('timeouts')),
    drift: withoutUndefined(drift),
    freshness: { maxAge: freshness.maxAge ?? defaultMaxAge(sync) },
    quarantine: mergeSection(section('quarantine')),
    volume: mergeSection(section('volume')),
    rateLimit: mergeSection(section('rateLimit')),
    history: mergeSection(section('history')),
    run: resolveRun(section('run')),
  });
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
