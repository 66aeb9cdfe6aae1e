import { describe, expect, it } from 'vitest';
import { resolvePolicy, type Condition } from '../../../../operator/api/index.ts';
import type { Cause } from '../../../../operator/controller/integration/causes.ts';
import {
  summarize,
  type ObservedSummary,
} from '../../../../operator/controller/integration/summary.ts';

/** Named instants. */
const T = {
  /** The Integration is created. */
  created: new Date('2026-01-05T10:00:00Z'),
  /** The first sync succeeded. */
  synced: new Date('2026-01-05T10:01:00Z'),
  /** Now: a few minutes later, well within freshness.maxAge (1h). */
  now: new Date('2026-01-05T10:05:00Z'),
} as const;

const policy = resolvePolicy(undefined, { sync: { interval: '15m', jitter: '0%' } });
const succeeded: ObservedSummary['status'] = {
  lastSync: {
    jobName: 'stripe-s-1-1',
    kind: 'sync',
    attempt: 1,
    dueTime: '2026-01-05T10:00:00Z',
    completionTime: '2026-01-05T10:01:00Z',
    outcome: 'Succeeded',
  },
  lastSuccessfulSyncTime: '2026-01-05T10:01:00Z',
};
const failedSync: NonNullable<ObservedSummary['status']['lastSync']> = {
  jobName: 'stripe-s-2-1',
  kind: 'sync',
  attempt: 1,
  dueTime: '2026-01-05T10:04:00Z',
  completionTime: '2026-01-05T10:05:00Z',
  outcome: 'Failed',
  reason: 'SyncFailed',
  error: { class: 'ServerError', message: 'HTTP 503', retryable: true },
};
const observed = (status = succeeded, suspended = false): ObservedSummary => ({
  createdAt: T.created,
  suspended,
  policy,
  status,
});
/** A status written earlier in which a run was in progress. */
const inProgress: Condition[] = [
  {
    type: 'Reconciling',
    status: 'True',
    reason: 'Progressing',
    message: 'sync attempt 1 is running (Job stripe-s-1-1)',
    lastTransitionTime: '2026-01-05T10:00:00Z',
  },
];
const error = { code: 'UnknownTimeZone' as const, message: 'timeZone "Mars" is not known' };

interface Row {
  name: string;
  causes: Cause[];
  observed?: ObservedSummary;
  ready: { status: Condition['status']; reason: string; message?: unknown };
}

/** Every cause status reports, one row each. */
const rows: Row[] = [
  {
    name: 'invalid object',
    causes: [{ kind: 'InvalidObject', errors: ['spec.source: Required'] }],
    ready: {
      status: 'False',
      reason: 'InvalidSpec',
      message: 'spec is invalid: spec.source: Required',
    },
  },
  {
    name: 'policy not found',
    causes: [{ kind: 'PolicyNotFound', namespace: 'payments', name: 'standard' }],
    ready: { status: 'False', reason: 'PolicyNotFound' },
  },
  {
    name: 'invalid policy',
    causes: [{ kind: 'InvalidPolicy', name: 'broken', errors: ['spec.retry.jitter'] }],
    ready: { status: 'False', reason: 'InvalidSpec' },
  },
  {
    name: 'sync trigger invalid',
    causes: [{ kind: 'InvalidTrigger', trigger: 'sync', error }],
    ready: { status: 'False', reason: 'InvalidSpec', message: 'timeZone "Mars" is not known' },
  },
  {
    name: 'drift trigger invalid',
    causes: [{ kind: 'InvalidTrigger', trigger: 'drift', error }],
    ready: {
      status: 'False',
      reason: 'InvalidSpec',
      message: 'drift: timeZone "Mars" is not known',
    },
  },
  {
    name: 'Secret not found',
    causes: [{ kind: 'SecretNotFound', namespace: 'payments', secrets: ['"stripe-api"'] }],
    ready: { status: 'False', reason: 'SecretNotFound' },
  },
  {
    name: 'pod config error',
    causes: [{ kind: 'PodConfigError', jobName: 'stripe-s-1-1', message: 'no key apiKey' }],
    ready: { status: 'False', reason: 'SecretNotFound' },
  },
  {
    name: 'retries exhausted',
    causes: [{ kind: 'RetriesExhausted', maxAttempts: 5, lastError: 'HTTP 503' }],
    ready: { status: 'False', reason: 'RetriesExhausted' },
  },
  {
    name: 'non-retryable failure',
    causes: [{ kind: 'NotRetryable', reason: 'AuthenticationFailed', message: 'HTTP 401' }],
    ready: { status: 'False', reason: 'AuthenticationFailed' },
  },
  {
    name: 'Job-name conflict',
    causes: [
      {
        kind: 'RunNotCreated',
        refusal: 'JobNameConflict',
        jobName: 'stripe-s-1-1',
        detail: 'exists and is not owned by this Integration; delete or rename it',
      },
    ],
    ready: { status: 'False', reason: 'JobNameConflict' },
  },
  {
    name: 'Job refused by the API server',
    causes: [
      {
        kind: 'RunNotCreated',
        refusal: 'JobRejected',
        jobName: 'stripe-s-1-1',
        detail: 'was refused by the API server (HTTP 403): exceeded quota: jobs',
      },
    ],
    ready: { status: 'False', reason: 'JobRejected' },
  },
  {
    name: 'Secret lookup refused',
    causes: [
      {
        kind: 'SecretLookupFailed',
        namespace: 'payments',
        secret: 'stripe-api',
        detail: 'secrets "stripe-api" is forbidden',
      },
    ],
    ready: { status: 'False', reason: 'SecretLookupFailed' },
  },
  {
    name: 'a stall next to a run in progress',
    causes: [
      { kind: 'RunActive', jobName: 'stripe-s-1-1', attempt: 1 },
      { kind: 'PodConfigError', jobName: 'stripe-s-1-1', message: 'no key apiKey' },
    ],
    ready: { status: 'False', reason: 'SecretNotFound' },
  },
  {
    name: 'suspended, nothing running',
    causes: [{ kind: 'AwaitingFirstRun' }],
    observed: observed({}, true),
    ready: { status: 'False', reason: 'AwaitingFirstRun' },
  },
  {
    name: 'running',
    causes: [{ kind: 'RunActive', jobName: 'stripe-s-2-1', attempt: 1 }],
    ready: { status: 'True', reason: 'Succeeded' },
  },
  {
    name: 'first run starting',
    causes: [{ kind: 'RunStarting', jobName: 'stripe-s-1-1', attempt: 1 }],
    observed: observed({}),
    ready: { status: 'False', reason: 'Progressing' },
  },
  {
    name: 'retry scheduled',
    causes: [{ kind: 'RetryScheduled', attempt: 1, nextAttemptTime: '2026-01-05T10:06:00Z' }],
    ready: { status: 'True', reason: 'Succeeded' },
  },
  {
    name: 'a blip: the last attempt failed, a retry is scheduled, the data is fresh',
    causes: [{ kind: 'RetryScheduled', attempt: 1, nextAttemptTime: '2026-01-05T10:06:00Z' }],
    observed: observed({ ...succeeded, lastSync: failedSync }),
    ready: {
      status: 'True',
      reason: 'RetryScheduled',
      message:
        'data is fresh (last successful sync at 2026-01-05T10:01:00Z) but the last attempt 1 failed: HTTP 503; attempt 2 starts at 2026-01-05T10:06:00Z',
    },
  },
  {
    name: 'a failed attempt with no successful sync yet is not Ready',
    causes: [{ kind: 'RetryScheduled', attempt: 1, nextAttemptTime: '2026-01-05T10:06:00Z' }],
    observed: observed({ lastSync: failedSync }),
    ready: { status: 'False', reason: 'SyncFailed' },
  },
  {
    name: 'a failed attempt on stale data is not Ready, and says why it failed',
    causes: [{ kind: 'RetryScheduled', attempt: 1, nextAttemptTime: '2026-01-05T10:06:00Z' }],
    observed: observed({
      lastSync: failedSync,
      lastSuccessfulSyncTime: '2026-01-05T08:00:00Z',
    }),
    ready: { status: 'False', reason: 'SyncFailed', message: expect.stringContaining('HTTP 503') },
  },
  {
    name: 'waiting for the active run (Forbid)',
    causes: [{ kind: 'RunWaiting', activeJob: 'stripe-s-1-1', activeKind: 'sync' }],
    ready: { status: 'True', reason: 'Succeeded' },
  },
  {
    name: 'awaiting first run',
    causes: [{ kind: 'AwaitingFirstRun' }],
    observed: observed({}),
    ready: { status: 'False', reason: 'AwaitingFirstRun', message: 'waiting for the first sync' },
  },
  {
    name: 'succeeded, nothing to do',
    causes: [],
    ready: { status: 'True', reason: 'Succeeded' },
  },
];

function conditionsOf(row: Row): Condition[] {
  return summarize({
    previous: inProgress,
    context: { generation: 2, now: T.now },
    causes: row.causes,
    observed: row.name === 'invalid object' ? undefined : (row.observed ?? observed()),
  }).conditions;
}

const get = (conditions: Condition[], type: string) => conditions.find((c) => c.type === type);

describe('summarize: every cause, as kstatus reads it', () => {
  it.each(rows)('$name: Ready says so', (row) => {
    expect(get(conditionsOf(row), 'Ready')).toMatchObject(row.ready);
  });

  it.each(rows)('$name: Stalled and Reconciling are never both present', (row) => {
    const conditions = conditionsOf(row);
    const stalled = get(conditions, 'Stalled');
    const reconciling = get(conditions, 'Reconciling');
    if (stalled?.status === 'True') expect(reconciling).toBeUndefined();
    // Ready=True is kstatus Current: neither abnormal condition may stand beside it.
    if (get(conditions, 'Ready')?.status === 'True') {
      expect(stalled).toBeUndefined();
      expect(reconciling).toBeUndefined();
    }
    for (const abnormal of [stalled, reconciling]) {
      if (abnormal !== undefined) expect(abnormal.status).toBe('True');
    }
  });
});

describe('summarize: Stalled and Reconciling', () => {
  it('a stall replaces an earlier Reconciling=True (the invalid object included)', () => {
    const conditions = conditionsOf(rows[0] as Row);
    expect(get(conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(get(conditions, 'Reconciling')).toBeUndefined();
  });

  it('an invalid object keeps its other conditions as they were', () => {
    const synced: Condition = {
      type: 'Synced',
      status: 'True',
      reason: 'Succeeded',
      message: 'sync stripe-s-1-1 succeeded',
      lastTransitionTime: '2026-01-05T10:01:00Z',
    };
    const conditions = summarize({
      previous: [synced],
      context: { generation: 2, now: T.now },
      causes: [{ kind: 'InvalidObject', errors: ['spec.source: Required'] }],
    }).conditions;
    expect(get(conditions, 'Synced')).toEqual(synced);
  });

  it('a routine run of fresh data is not Reconciling: Ready=True stands alone', () => {
    const conditions = summarize({
      previous: inProgress,
      context: { generation: 1, now: T.now },
      causes: [{ kind: 'RunActive', jobName: 'stripe-s-2-1', attempt: 1 }],
      observed: observed(),
    }).conditions;
    expect(get(conditions, 'Ready')).toMatchObject({ status: 'True' });
    expect(get(conditions, 'Reconciling')).toBeUndefined();
  });

  it('the most important stall names Stalled whatever the order of causes', () => {
    const conditions = summarize({
      previous: [],
      context: { generation: 1, now: T.now },
      causes: [
        { kind: 'PodConfigError', jobName: 'stripe-s-1-1', message: 'no key apiKey' },
        { kind: 'PolicyNotFound', namespace: 'payments', name: 'standard' },
      ],
      observed: observed(),
    }).conditions;
    expect(get(conditions, 'Stalled')).toMatchObject({ reason: 'PolicyNotFound' });
  });

  it('a run in progress while suspended stays Reconciling; a pending retry does not', () => {
    const summaryOf = (cause: Cause) =>
      summarize({
        previous: [],
        context: { generation: 1, now: T.now },
        causes: [cause],
        // No sync has finished yet: Ready is False, so Reconciling may show.
        observed: observed({}, true),
      }).conditions;
    expect(
      get(summaryOf({ kind: 'RunActive', jobName: 'j', attempt: 1 }), 'Reconciling'),
    ).toMatchObject({ reason: 'Progressing' });
    const retry = { kind: 'RetryScheduled' as const, attempt: 1, nextAttemptTime: 'x' };
    expect(get(summaryOf(retry), 'Reconciling')).toBeUndefined();
  });
});

describe('summarize: Drifted says why nothing is known', () => {
  const drifted = (extra: Partial<ObservedSummary>, status = succeeded) =>
    get(
      summarize({
        previous: undefined,
        context: { generation: 1, now: T.now },
        causes: [],
        observed: { ...observed(status), ...extra },
      }).conditions,
      'Drifted',
    );
  const failedCheck = {
    jobName: 'stripe-d-1-2',
    kind: 'drift-check' as const,
    attempt: 2,
    completionTime: '2026-01-05T10:04:00Z',
    outcome: 'Failed' as const,
    error: {
      class: 'ServerError' as const,
      message: 'HTTP 503 listing the destination',
      retryable: true,
    },
  };

  it('drift.mode Off', () => {
    expect(drifted({ driftDisabled: 'Off' })).toMatchObject({
      status: 'Unknown',
      reason: 'DriftCheckDisabled',
    });
  });

  it('no destination.list', () => {
    expect(drifted({ driftDisabled: 'NotConfigured' })).toMatchObject({
      status: 'Unknown',
      reason: 'DriftCheckNotConfigured',
      message: expect.stringContaining(
        'set spec.destination.list to enable drift checks',
      ) as unknown,
    });
  });

  it('the last check failed: Unknown with its error and the next attempt, not the old counts', () => {
    const status = {
      ...succeeded,
      drift: {
        checkTime: '2026-01-05T04:00:00Z',
        missing: 0,
        unexpected: 0,
        mismatched: 0,
        total: 0,
      },
      lastDriftCheck: failedCheck,
      nextDriftCheckTime: '2026-01-05T10:05:00Z',
    };
    expect(drifted({}, status)).toEqual(
      expect.objectContaining({
        status: 'Unknown',
        reason: 'DriftCheckFailed',
        message:
          'drift check stripe-d-1-2 (attempt 2) failed: HTTP 503 listing the destination; the next check starts at 2026-01-05T10:05:00Z',
      }),
    );
  });

  it('a check that succeeded after the failure reports its counts again', () => {
    const status = {
      ...succeeded,
      drift: {
        checkTime: '2026-01-05T10:05:00Z',
        missing: 1,
        unexpected: 0,
        mismatched: 0,
        total: 1,
      },
      lastDriftCheck: failedCheck,
    };
    expect(drifted({}, status)).toMatchObject({ status: 'True', reason: 'DriftDetected' });
  });
});
