import { describe, expect, it } from 'vitest';
import {
  resolvePolicy,
  SYNC_REQUESTED_ANNOTATION,
  type RunRecord,
} from '../../../../operator/api/index.ts';
import {
  decide,
  type DecisionInput,
  type SyncDecision,
} from '../../../../operator/controller/integration/decide.ts';
import type { ObservedRun } from '../../../../operator/controller/integration/runs.ts';
import { rfc3339 } from '../../../../operator/lib/time.ts';

/** Named instants of one Integration syncing every 15 minutes without jitter. */
const T = {
  /** Created: the first run is due. */
  created: new Date('2026-01-05T10:00:00Z'),
  /** The first attempt fails. */
  firstFailed: new Date('2026-01-05T10:01:00Z'),
  /** 30 s later: the retry of attempt 1 is due (initialInterval 30s, no jitter). */
  retryDue: new Date('2026-01-05T10:01:30Z'),
  /** A second before the second run. */
  justBeforeSecond: new Date('2026-01-05T10:14:59Z'),
  /** The second run is due. */
  secondDue: new Date('2026-01-05T10:15:00Z'),
  /** Six minutes after the second was due: past a 5m startingDeadline. */
  secondTooLate: new Date('2026-01-05T10:21:00Z'),
  /** The third run is due. */
  thirdDue: new Date('2026-01-05T10:30:00Z'),
  /** After the third due time: two due runs are unstarted. */
  afterThird: new Date('2026-01-05T10:31:00Z'),
} as const;

const sync = { interval: '15m', jitter: '0%' };
const policy = resolvePolicy(undefined, { sync, retry: { jitter: 'None', maxAttempts: 3 } });

function failedAttempt(attempt: number, retryable = true, reason = 'SyncFailed'): RunRecord {
  return {
    jobName: `stripe-s-1-${String(attempt)}`,
    kind: 'sync',
    attempt,
    dueTime: rfc3339(T.created),
    startTime: rfc3339(T.created),
    completionTime: rfc3339(T.firstFailed),
    outcome: 'Failed',
    reason,
    error: { class: 'ServerError', message: 'HTTP 503 from api.stripe.com', retryable },
  };
}

const active: ObservedRun = {
  jobName: 'stripe-s-created-1',
  kind: 'sync',
  attempt: 1,
  dueTime: T.created,
  createdAt: T.created,
  phase: 'Active',
};

function input(now: Date, given: Partial<DecisionInput>): DecisionInput {
  return {
    uid: 'uid-1',
    createdAt: T.created,
    generationChanged: false,
    policyChanged: false,
    credentialsChanged: false,
    suspended: false,
    annotations: {},
    policy,
    lastScheduled: undefined,
    lastAttempt: undefined,
    active: undefined,
    checking: undefined,
    lastHandledSyncRequest: undefined,
    persistedRetry: undefined,
    now,
    random: () => 0.5,
    ...given,
  };
}

interface Row {
  name: string;
  now: Date;
  given: Partial<DecisionInput>;
  /** A subset of the decision: its `kind` and the fields the case is about. */
  expected: { kind: SyncDecision['kind'] } & Record<string, unknown>;
}

const rows: Row[] = [
  {
    name: 'a new Integration syncs at once',
    now: T.created,
    given: {},
    expected: {
      kind: 'start',
      start: { dueTime: T.created, attempt: 1, why: 'Scheduled' },
      lastScheduled: T.created,
      nextSyncTime: T.secondDue,
    },
  },
  {
    name: 'nothing is due between runs',
    now: T.justBeforeSecond,
    given: { lastScheduled: T.created },
    expected: { kind: 'idle', lastScheduled: T.created, missed: 0, nextSyncTime: T.secondDue },
  },
  {
    name: 'the next run starts when due',
    now: T.secondDue,
    given: { lastScheduled: T.created },
    expected: { kind: 'start', start: { dueTime: T.secondDue, attempt: 1, why: 'Scheduled' } },
  },
  {
    name: 'the newest due run supersedes older unstarted ones and counts them',
    now: T.afterThird,
    given: { lastScheduled: T.created },
    expected: { kind: 'start', start: { dueTime: T.thirdDue, attempt: 1 }, missed: 1 },
  },
  {
    name: 'a due run past startingDeadline is skipped and counted',
    now: T.secondTooLate,
    given: {
      lastScheduled: T.created,
      policy: resolvePolicy(undefined, { sync: { ...sync, startingDeadline: '5m' } }),
    },
    expected: { kind: 'idle', lastScheduled: T.secondDue, missed: 1 },
  },
  {
    name: 'suspended: nothing starts, the next due time is still known',
    now: T.secondDue,
    given: { lastScheduled: T.created, suspended: true },
    expected: { kind: 'idle', nextSyncTime: T.thirdDue },
  },
  {
    name: 'Forbid: a due run waits for the active one',
    now: T.secondDue,
    given: { lastScheduled: T.created, active },
    expected: { kind: 'wait', active },
  },
  {
    name: 'Replace: a due run replaces the active one',
    now: T.secondDue,
    given: {
      lastScheduled: T.created,
      active,
      policy: resolvePolicy(undefined, { sync: { ...sync, concurrencyPolicy: 'Replace' } }),
    },
    expected: { kind: 'start', start: { dueTime: T.secondDue }, replace: active },
  },
  {
    name: 'a failed attempt waits for its retry',
    now: T.firstFailed,
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(1) },
    expected: { kind: 'retry', retry: { attempt: 1, nextAttemptTime: rfc3339(T.retryDue) } },
  },
  {
    name: 'the retry starts when due',
    now: T.retryDue,
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(1) },
    expected: { kind: 'start', start: { dueTime: T.created, attempt: 2, why: 'Retry' } },
  },
  {
    name: 'a persisted retry time is kept, not drawn again',
    now: T.retryDue,
    given: {
      lastScheduled: T.created,
      lastAttempt: failedAttempt(1),
      persistedRetry: { attempt: 1, nextAttemptTime: '2026-01-05T10:05:00Z' },
    },
    expected: { kind: 'retry', retry: { attempt: 1, nextAttemptTime: '2026-01-05T10:05:00Z' } },
  },
  {
    name: 'the last allowed attempt failed: stalled, retries exhausted',
    now: T.retryDue,
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(3) },
    expected: {
      kind: 'stalled',
      cause: {
        kind: 'RetriesExhausted',
        maxAttempts: 3,
        lastError: 'HTTP 503 from api.stripe.com',
      },
    },
  },
  {
    name: 'a failure that is not retried stalls with the run reason',
    now: T.retryDue,
    given: {
      lastScheduled: T.created,
      lastAttempt: failedAttempt(1, false, 'AuthenticationFailed'),
    },
    expected: {
      kind: 'stalled',
      cause: {
        kind: 'NotRetryable',
        reason: 'AuthenticationFailed',
        message: 'HTTP 503 from api.stripe.com',
      },
    },
  },
  {
    name: 'a stored reason that is not declared reads as SyncFailed',
    now: T.retryDue,
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(1, false, 'Gremlins') },
    expected: { kind: 'stalled', cause: { kind: 'NotRetryable', reason: 'SyncFailed' } },
  },
  {
    name: 'a spec change after a stall starts a fresh attempt now',
    now: T.justBeforeSecond,
    given: {
      lastScheduled: T.created,
      lastAttempt: failedAttempt(3),
      generationChanged: true,
    },
    expected: { kind: 'start', start: { dueTime: T.justBeforeSecond, why: 'SpecChanged' } },
  },
  {
    name: 'stalled means stopped: a later due time starts nothing, the probe time is next',
    now: T.afterThird,
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(3) },
    expected: {
      kind: 'stalled',
      cause: { kind: 'RetriesExhausted', probeAt: '2026-01-05T11:15:00Z' },
      lastScheduled: T.created,
      missed: 0,
      nextSyncTime: new Date('2026-01-05T11:15:00Z'),
    },
  },
  {
    name: 'the probe starts one run at the first due time an hour after the failure',
    now: new Date('2026-01-05T11:15:20Z'),
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(1, false, 'NotFound') },
    expected: {
      kind: 'start',
      start: { dueTime: new Date('2026-01-05T11:15:00Z'), attempt: 1, why: 'Probe' },
      lastScheduled: new Date('2026-01-05T11:15:00Z'),
      missed: 0,
    },
  },
  {
    name: 'a daily schedule probes at its next run, not hourly',
    now: new Date('2026-01-05T11:30:00Z'),
    given: {
      lastScheduled: T.created,
      lastAttempt: failedAttempt(1, false),
      policy: resolvePolicy(undefined, { sync: { interval: '24h', jitter: '0%' } }),
    },
    expected: { kind: 'stalled', nextSyncTime: new Date('2026-01-06T10:00:00Z') },
  },
  {
    name: 'a policy change after a stall starts a fresh attempt now',
    now: T.afterThird,
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(3), policyChanged: true },
    expected: { kind: 'start', start: { dueTime: T.afterThird, why: 'PolicyChanged' } },
  },
  {
    name: 'a changed Secret after a stall starts a fresh attempt now',
    now: T.afterThird,
    given: { lastScheduled: T.created, lastAttempt: failedAttempt(3), credentialsChanged: true },
    expected: { kind: 'start', start: { dueTime: T.afterThird, why: 'SecretChanged' } },
  },
  {
    name: 'a due sync waits for a running drift check, even under Replace',
    now: T.secondDue,
    given: {
      lastScheduled: T.created,
      checking: { ...active, jobName: 'stripe-d-1', kind: 'drift-check' },
      policy: resolvePolicy(undefined, { sync: { ...sync, concurrencyPolicy: 'Replace' } }),
    },
    expected: { kind: 'wait', active: { jobName: 'stripe-d-1' }, lastScheduled: T.created },
  },
  {
    name: 'a due retry waits for a running drift check',
    now: T.retryDue,
    given: {
      lastScheduled: T.created,
      lastAttempt: failedAttempt(1),
      checking: { ...active, jobName: 'stripe-d-1', kind: 'drift-check' },
    },
    expected: { kind: 'wait', active: { jobName: 'stripe-d-1' } },
  },
  {
    name: 'a sync request starts a run now and is marked handled',
    now: T.justBeforeSecond,
    given: { lastScheduled: T.created, annotations: { [SYNC_REQUESTED_ANNOTATION]: 'r1' } },
    expected: {
      kind: 'start',
      start: { dueTime: T.justBeforeSecond, attempt: 1, why: 'Requested' },
      handledRequest: 'r1',
    },
  },
  {
    name: 'a handled sync request does not start again',
    now: T.justBeforeSecond,
    given: {
      lastScheduled: T.created,
      annotations: { [SYNC_REQUESTED_ANNOTATION]: 'r1' },
      lastHandledSyncRequest: 'r1',
    },
    expected: { kind: 'idle' },
  },
  {
    name: 'a sync trigger that cannot be planned is invalid',
    now: T.created,
    given: {
      // Admission rejects an unknown zone; a policy resolved before the check was added may not.
      policy: {
        ...policy,
        sync: {
          ...policy.sync,
          interval: undefined,
          schedule: '0 2 * * *',
          timeZone: 'Mars/Olympus_Mons',
        },
      },
    },
    expected: {
      kind: 'invalid',
      cause: { kind: 'InvalidTrigger', trigger: 'sync', error: { code: 'UnknownTimeZone' } },
    },
  },
];

describe('decide: the sync decision', () => {
  it.each(rows)('$name', ({ now, given, expected }) => {
    expect(decide(input(now, given))).toMatchObject(expected);
  });
});
