/**
 * ReconcilePolicy: how integrations are run (schedule, retries, timeouts, drift checks,
 * freshness, quarantine, volume, rate limit, history, run pods). Every field is optional; built-in defaults
 * ({@link ./defaults.ts}) fill what neither the policy nor the Integration's overrides set.
 */
import { z } from 'zod';
import { Conditions, resourceObject, withRules, type CrossFieldRule } from './common.ts';
import { cron, duration, percent, timeZone } from './formats.ts';
import { RunPolicy } from './run.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** At most one of `interval` and `schedule` may be set; neither means the built-in default. */
function atMostOneTrigger<
  T extends { interval?: string | undefined; schedule?: string | undefined },
>(): CrossFieldRule<T> {
  return {
    rule: '!(has(self.interval) && has(self.schedule))',
    message: 'interval and schedule are mutually exclusive: set one of them',
    holds: (value) => value.interval === undefined || value.schedule === undefined,
  };
}

/** When sync runs happen. */
export const SyncPolicy = withRules(
  z.strictObject({
    interval: duration({ min: 10 * SECOND, max: 30 * DAY })
      .optional()
      .describe(
        'Run a sync this long after the previous one was due, e.g. 15m. Exclusive with ' +
          'schedule. Default: 15m.',
      ),
    schedule: cron()
      .optional()
      .describe(
        'Run syncs on a 5-field cron schedule, e.g. "*/15 * * * *", in timeZone. Exclusive ' +
          'with interval.',
      ),
    timeZone: timeZone()
      .optional()
      .describe('IANA time zone in which schedule is read, e.g. Europe/Paris. Default: Etc/UTC.'),
    jitter: percent()
      .optional()
      .describe(
        'Spread start times by up to this share of the interval, deterministically per ' +
          'Integration, so many integrations do not start at once. Default: 10%.',
      ),
    startingDeadline: duration({ min: SECOND, max: 30 * DAY })
      .optional()
      .describe(
        'A run that cannot start this long after it was due is skipped and counted as ' +
          'missed. Default: unset (a late run always starts, once).',
      ),
    concurrencyPolicy: z
      .enum(['Forbid', 'Replace'])
      .optional()
      .describe(
        'What to do when a run is due while the previous one is still running: Forbid skips ' +
          'the new run, Replace stops the running one and starts the new one. Default: Forbid.',
      ),
  }),
  [atMostOneTrigger()],
).describe('When sync runs happen.');

/** How failed attempts are retried. */
export const RetryPolicy = z
  .strictObject({
    maxAttempts: z
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('Attempts per due run, the first included. Default: 5.'),
    initialInterval: duration({ min: SECOND, max: DAY })
      .optional()
      .describe('Delay before the second attempt. Default: 30s.'),
    backoffCoefficient: z
      .number()
      .min(1)
      .max(10)
      .optional()
      .describe('Each further delay is the previous one times this. Default: 2.'),
    maxInterval: duration({ min: SECOND, max: 7 * DAY })
      .optional()
      .describe('Upper bound of the delay between attempts. Default: 30m.'),
    jitter: z
      .enum(['Full', 'None'])
      .optional()
      .describe(
        'Full draws each delay uniformly between 0 and the computed delay ("full jitter"); ' +
          'None uses the computed delay. Default: Full.',
      ),
  })
  .describe(
    'How failed attempts are retried. The operator owns retries: each attempt is its own Job ' +
      'with backoffLimit 0.',
  );

/** Time limits for requests and whole runs. */
export const TimeoutPolicy = z
  .strictObject({
    request: duration({ min: 100, max: 10 * MINUTE })
      .optional()
      .describe('Limit for one HTTP request to a provider or destination. Default: 30s.'),
    run: duration({ min: 10 * SECOND, max: 7 * DAY })
      .optional()
      .describe("Limit for a whole run; the Job's activeDeadlineSeconds. Default: 30m."),
  })
  .describe('Time limits for requests and whole runs.');

/** When and how the two systems are compared. */
export const DriftPolicy = withRules(
  z.strictObject({
    interval: duration({ min: MINUTE, max: 30 * DAY })
      .optional()
      .describe('Run a drift check this often, e.g. 6h. Exclusive with schedule. Default: 6h.'),
    schedule: cron()
      .optional()
      .describe('Run drift checks on a 5-field cron schedule. Exclusive with interval.'),
    timeZone: timeZone()
      .optional()
      .describe('IANA time zone in which schedule is read. Default: Etc/UTC.'),
    mode: z
      .enum(['Report', 'Repair', 'Off'])
      .optional()
      .describe(
        'Report only counts differences; Repair also re-applies missing and mismatched records. ' +
          'Records found only in the destination are reported, never deleted. Off runs no drift ' +
          'checks (Drifted=Unknown, DriftCheckDisabled). Default: Report.',
      ),
    tolerance: z
      .strictObject({
        records: z
          .int()
          .min(0)
          .max(1_000_000_000)
          .optional()
          .describe('Differing records allowed before Drifted=True. Default: 0.'),
      })
      .optional()
      .describe('How much difference is tolerated.'),
  }),
  [atMostOneTrigger()],
).describe('When and how drift checks compare the source with the destination.');

/** When the data counts as stale. */
export const FreshnessPolicy = z
  .strictObject({
    maxAge: duration({ min: MINUTE, max: 90 * DAY })
      .optional()
      .describe(
        'Stale=True when the last successful sync is older than this. Default: three times ' +
          'the sync interval, at least 1h.',
      ),
  })
  .describe('When the data counts as stale.');

/** How many quarantined records are tolerated. */
export const QuarantinePolicy = z
  .strictObject({
    maxRecords: z
      .int()
      .min(0)
      .max(1_000_000_000)
      .optional()
      .describe('Degraded=True above this many quarantined records in a run. Default: 100.'),
  })
  .describe('How many quarantined (invalid or refused) records are tolerated.');

/** What volume of records a pass is expected to read. */
export const VolumePolicy = z
  .strictObject({
    mode: z
      .enum(['Enforce', 'Off'])
      .optional()
      .describe(
        'Enforce: a pass outside the ratios sets VolumeAnomaly=True and Ready=False. Off: no ' +
          'volume check (e.g. an incremental source with quiet periods). Default: Enforce.',
      ),
    minRatio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'A pass reading fewer than this share of the recent median is anomalous. Default: 0.1.',
      ),
    maxRatio: z
      .number()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe(
        'A pass reading more than this multiple of the recent median is anomalous. Default: 10.',
      ),
    window: z
      .int()
      .min(1)
      .max(9)
      .optional()
      .describe(
        'How many earlier successful passes the median is taken over. A pass reading 0 records ' +
          'after non-empty ones is always anomalous. Default: 5.',
      ),
  })
  .describe(
    'The volume guard: a pass that reads far fewer or far more records than recent passes, or ' +
      'none after some, is an anomaly until the volume returns or a human acknowledges it ' +
      '(annotation tributary.dev/volume-acknowledged-at).',
  );

/** Request rate toward the provider. */
export const RateLimitPolicy = z
  .strictObject({
    requestsPerSecond: z
      .number()
      .gt(0)
      .max(10_000)
      .optional()
      .describe('Sustained requests per second toward the provider, per run. Default: 10.'),
    burst: z
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('Requests that may be sent at once above the sustained rate. Default: 20.'),
  })
  .describe('Request rate toward the provider, per run (a token bucket).');

/** How many finished Jobs are kept. */
export const HistoryPolicy = z
  .strictObject({
    successfulRuns: z
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe('Finished successful Jobs kept. Default: 3.'),
    failedRuns: z
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe('Finished failed Jobs kept, for inspection. Default: 5.'),
  })
  .describe('How many finished Jobs are kept; older ones are deleted.');

/** The spec of a ReconcilePolicy, also the shape of `Integration.spec.overrides`. */
export const ReconcilePolicySpec = z
  .strictObject({
    sync: SyncPolicy.optional(),
    retry: RetryPolicy.optional(),
    timeouts: TimeoutPolicy.optional(),
    drift: DriftPolicy.optional(),
    freshness: FreshnessPolicy.optional(),
    quarantine: QuarantinePolicy.optional(),
    volume: VolumePolicy.optional(),
    rateLimit: RateLimitPolicy.optional(),
    history: HistoryPolicy.optional(),
    run: RunPolicy.optional(),
  })
  .describe('How integrations are run. Every field is optional; built-in defaults apply.');
/** The spec of a ReconcilePolicy. */
export type ReconcilePolicySpec = z.infer<typeof ReconcilePolicySpec>;

/** What the operator reports about a ReconcilePolicy. */
export const ReconcilePolicyStatus = z
  .strictObject({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation this status was computed from.'),
    conditions: Conditions().optional(),
    integrationCount: z
      .int()
      .min(0)
      .optional()
      .describe('How many Integrations in this namespace use this policy.'),
  })
  .describe('What the operator reports about this policy.');
/** What the operator reports about a ReconcilePolicy. */
export type ReconcilePolicyStatus = z.infer<typeof ReconcilePolicyStatus>;

/** A ReconcilePolicy object as stored in the API. */
export const ReconcilePolicy = resourceObject(
  'ReconcilePolicy',
  ReconcilePolicySpec.default({}),
  ReconcilePolicyStatus,
);
/** A ReconcilePolicy object as stored in the API. */
export type ReconcilePolicy = z.infer<typeof ReconcilePolicy>;
