import { describe, expect, it } from 'vitest';
import { DRIFT_CHECK_REQUESTED_ANNOTATION, resolvePolicy } from '../../../../operator/api/index.ts';
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

const policy = resolvePolicy(undefined, { drift: { interval: '6h' } });

function input(now: Date, given: Partial<DriftInput>): DriftInput {
  return {
    uid: 'uid-1',
    createdAt: T.created,
    suspended: false,
    annotations: {},
    policy,
    lastScheduled: undefined,
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
