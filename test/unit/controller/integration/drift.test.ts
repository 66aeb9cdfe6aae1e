import { describe, expect, it } from 'vitest';
import {
  DRIFT_CHECK_REQUESTED_ANNOTATION,
  resolvePolicy,
  type RunRecord,
} from '../../../../operator/api/index.ts';
import {
  decideDrift,
  type DriftDecision,
  type DriftInput,
} from '../../../../operator/controller/integration/drift.ts';

/** Named instants of one Integration checking drift every 6 hours. */
const T = {
  /** Created: no drift check yet (the first is an interval later). */
  created: new Date('2026-01-05T00:00:00Z'),
  /** A second before the first check. */
  justBeforeFirst: new Date('2026-01-05T05:59:59Z'),
  /** The first drift check is due. */
  firstDue: new Date('2026-01-05T06:00:00Z'),
  /** The second drift check is due. */
  secondDue: new Date('2026-01-05T12:00:00Z'),
} as const;

const policy = resolvePolicy(undefined, {
  drift: { interval: '6h' },
  retry: { jitter: 'None', maxAttempts: 2, initialInterval: '30s' },
});

/** Attempt `attempt` of the first check failed a minute after it was due. */
function failedCheck(attempt: number, retryable = true): RunRecord {
  return {
    jobName: `stripe-d-1-${String(attempt)}`,
    kind: 'drift-check',
    attempt,
    dueTime: '2026-01-05T06:00:00Z',
    completionTime: '2026-01-05T06:01:00Z',
    outcome: 'Failed',
    reason: 'SyncFailed',
    error: { class: 'ServerError', message: 'HTTP 503 from the destination', retryable },
  };
}
const afterFailure = new Date('2026-01-05T06:01:00Z');
const retryDue = new Date('2026-01-05T06:01:30Z');

function input(now: Date, given: Partial<DriftInput>): DriftInput {
  return {
    uid: 'uid-1',
    createdAt: T.created,
    suspended: false,
    configured: true,
    annotations: {},
    policy,
    lastScheduled: undefined,
    lastAttempt: undefined,
    busy: false,
    lastHandledRequest: undefined,
    now,
    ...given,
  };
}

interface Row {
  name: string;
  now: Date;
  given: Partial<DriftInput>;
  /** A subset of the decision: its `kind` and the fields the case is about. */
  expected: { kind: DriftDecision['kind'] } & Record<string, unknown>;
}

const rows: Row[] = [
  {
    name: 'no check at creation: the first is an interval later',
    now: T.created,
    given: {},
    expected: { kind: 'idle', lastScheduled: undefined, next: T.firstDue },
  },
  {
    name: 'nothing is due just before the first check',
    now: T.justBeforeFirst,
    given: {},
    expected: { kind: 'idle', next: T.firstDue },
  },
  {
    name: 'the first check starts when due',
    now: T.firstDue,
    given: {},
    expected: {
      kind: 'start',
      start: { dueTime: T.firstDue, why: 'Scheduled' },
      lastScheduled: T.firstDue,
      next: T.secondDue,
    },
  },
  {
    name: 'a due check waits while another run is active',
    now: T.firstDue,
    given: { busy: true },
    expected: { kind: 'idle', lastScheduled: undefined },
  },
  {
    name: 'suspended: no check starts',
    now: T.firstDue,
    given: { suspended: true },
    expected: { kind: 'idle' },
  },
  {
    name: 'a request starts a check now and is marked handled',
    now: T.justBeforeFirst,
    given: { annotations: { [DRIFT_CHECK_REQUESTED_ANNOTATION]: 'r1' } },
    expected: {
      kind: 'start',
      start: { dueTime: T.justBeforeFirst, why: 'Requested' },
      handledRequest: 'r1',
    },
  },
  {
    name: 'a handled request does not start again',
    now: T.justBeforeFirst,
    given: {
      annotations: { [DRIFT_CHECK_REQUESTED_ANNOTATION]: 'r1' },
      lastHandledRequest: 'r1',
    },
    expected: { kind: 'idle' },
  },
  {
    name: 'drift.mode Off: no checks, not even on request',
    now: T.firstDue,
    given: {
      policy: resolvePolicy(undefined, { drift: { interval: '6h', mode: 'Off' } }),
      annotations: { [DRIFT_CHECK_REQUESTED_ANNOTATION]: 'r1' },
    },
    expected: { kind: 'disabled', why: 'Off' },
  },
  {
    name: 'nothing to list the destination with: no checks',
    now: T.firstDue,
    given: { configured: false },
    expected: { kind: 'disabled', why: 'NotConfigured' },
  },
  {
    name: 'a failed check waits for its retry by the retry policy',
    now: afterFailure,
    given: { lastScheduled: T.firstDue, lastAttempt: failedCheck(1) },
    expected: {
      kind: 'retry',
      retry: { attempt: 1, nextAttemptTime: '2026-01-05T06:01:30Z' },
      next: retryDue,
    },
  },
  {
    name: 'the retry of a failed check starts when due',
    now: retryDue,
    given: { lastScheduled: T.firstDue, lastAttempt: failedCheck(1) },
    expected: { kind: 'start', start: { dueTime: T.firstDue, attempt: 2, why: 'Retry' } },
  },
  {
    name: 'a retry waits while another run is active',
    now: retryDue,
    given: { lastScheduled: T.firstDue, lastAttempt: failedCheck(1), busy: true },
    expected: { kind: 'idle', next: retryDue },
  },
  {
    name: 'retries exhausted: the next scheduled check, not another attempt',
    now: retryDue,
    given: { lastScheduled: T.firstDue, lastAttempt: failedCheck(2) },
    expected: { kind: 'idle', next: T.secondDue },
  },
  {
    name: 'a failure that is not retried waits for the next scheduled check',
    now: retryDue,
    given: { lastScheduled: T.firstDue, lastAttempt: failedCheck(1, false) },
    expected: { kind: 'idle', next: T.secondDue },
  },
  {
    name: 'a drift trigger that cannot be planned is invalid, not ignored',
    now: T.firstDue,
    given: {
      policy: {
        ...policy,
        drift: {
          ...policy.drift,
          interval: undefined,
          schedule: '0 2 * * *',
          timeZone: 'Mars/Olympus_Mons',
        },
      },
    },
    expected: {
      kind: 'invalid',
      cause: { kind: 'InvalidTrigger', trigger: 'drift', error: { code: 'UnknownTimeZone' } },
    },
  },
];

describe('decideDrift: the drift-check decision', () => {
  it.each(rows)('$name', ({ now, given, expected }) => {
    expect(decideDrift(input(now, given))).toMatchObject(expected);
  });
});
