import { describe, expect, it } from 'vitest';
import { ConditionType, Reason, type Condition } from '../../../../operator/api/index.ts';
import { plannedEvents } from '../../../../operator/controller/integration/events.ts';
import {
  isAbnormal,
  transitionEvents,
} from '../../../../operator/controller/integration/transitions.ts';

const AT = '2026-01-05T10:00:00Z';

function c(type: string, status: Condition['status'], reason: string, message = 'm'): Condition {
  return { type, status, reason, message, lastTransitionTime: AT };
}

const readyTrue = c('Ready', 'True', Reason.Succeeded, 'sync s-1 succeeded');
/** A healthy Integration, as a status of every condition type shows it. */
const healthy: Condition[] = [
  readyTrue,
  c('Synced', 'True', Reason.Succeeded, 'sync s-1 succeeded'),
  c('Drifted', 'False', Reason.InSync, 'within tolerance'),
  c('Stale', 'False', Reason.MaxAgeExceeded, 'fresh'),
  c('Degraded', 'False', Reason.Succeeded, '0 quarantined'),
  c('Deprecated', 'False', Reason.DeprecationAnnounced, 'none announced'),
  c('Suspended', 'False', Reason.Suspended, 'runs start on schedule'),
];

/** `conditions` with the condition of `type` replaced by `condition` (or removed). */
function replace(conditions: Condition[], type: string, condition?: Condition): Condition[] {
  const rest = conditions.filter((x) => x.type !== type);
  return condition ? [...rest, condition] : rest;
}

describe('transitionEvents', () => {
  it('records nothing in a steady state, even when only a message changes', () => {
    expect(transitionEvents(healthy, healthy)).toEqual([]);
    const newer = replace(healthy, 'Synced', c('Synced', 'True', Reason.Succeeded, 'sync s-2'));
    expect(transitionEvents(healthy, newer)).toEqual([]);
  });

  // Every abnormal-true type of the API, and types the API does not declare yet: the rule is
  // generic, so conditions added later get Events without a change here.
  const abnormalTrue = [
    ...Object.values(ConditionType).filter(
      (type) => !['Ready', 'Synced', 'Reconciling', 'Stalled'].includes(type),
    ),
    'SchemaChanged',
    'VolumeAnomaly',
  ];
  it.each(abnormalTrue)('%s: Warning when it turns True, Normal when it turns False', (type) => {
    const before = replace(healthy, type, c(type, 'False', Reason.InSync, 'fine'));
    const after = replace(healthy, type, c(type, 'True', Reason.DriftDetected, 'broken'));
    expect(transitionEvents(before, after)).toEqual([
      { type: 'Warning', reason: Reason.DriftDetected, message: 'broken' },
    ]);
    expect(transitionEvents(after, before)).toEqual([
      { type: 'Normal', reason: Reason.InSync, message: 'fine' },
    ]);
  });

  it.each(['Ready', 'Synced'])('%s: Warning when it turns False, Normal when True', (type) => {
    const failed = replace(healthy, type, c(type, 'False', Reason.SyncFailed, 'attempt 1 failed'));
    expect(transitionEvents(healthy, failed)).toEqual([
      { type: 'Warning', reason: Reason.SyncFailed, message: 'attempt 1 failed' },
    ]);
    expect(transitionEvents(failed, healthy)).toEqual([
      { type: 'Normal', reason: Reason.Succeeded, message: 'sync s-1 succeeded' },
    ]);
  });

  it('records a change of reason at the same status', () => {
    const stale = replace(healthy, 'Ready', c('Ready', 'False', Reason.MaxAgeExceeded, 'old'));
    const drifted = replace(healthy, 'Ready', c('Ready', 'False', Reason.DriftDetected, 'drift'));
    expect(transitionEvents(stale, drifted)).toEqual([
      { type: 'Warning', reason: Reason.DriftDetected, message: 'drift' },
    ]);
  });

  it('Stalled: Warning when it appears, Normal Resolved when it is removed', () => {
    const stalled = [...healthy, c('Stalled', 'True', Reason.JobRejected, 'quota')];
    expect(transitionEvents(healthy, stalled)).toEqual([
      { type: 'Warning', reason: Reason.JobRejected, message: 'quota' },
    ]);
    expect(transitionEvents(stalled, healthy)).toEqual([
      {
        type: 'Normal',
        reason: Reason.Resolved,
        message: 'Stalled cleared: JobRejected no longer holds (was: quota)',
      },
    ]);
  });

  it('records Unknown as Normal (a failed check has its run Warning), and not when it first appears', () => {
    const failedCheck = c('Drifted', 'Unknown', Reason.SyncFailed, 'the check failed');
    expect(isAbnormal(failedCheck)).toBe(false);
    expect(transitionEvents(healthy, replace(healthy, 'Drifted', failedCheck))).toEqual([
      { type: 'Normal', reason: Reason.SyncFailed, message: 'the check failed' },
    ]);
    const waiting = c('Drifted', 'Unknown', Reason.AwaitingFirstRun, 'no check yet');
    expect(transitionEvents(healthy, replace(healthy, 'Drifted', waiting))).toEqual([]);
    const unknownType = c(
      'VolumeAnomaly',
      'Unknown',
      Reason.SyncFailed,
      'no sync has succeeded yet',
    );
    expect(transitionEvents(healthy, [...healthy, unknownType])).toEqual([]);
  });

  it('on a first status: an Event for Ready and what is wrong, none for what is healthy or waiting', () => {
    const first = [
      c('Ready', 'False', Reason.AwaitingFirstRun, 'waiting'),
      c('Synced', 'Unknown', Reason.AwaitingFirstRun, 'no sync yet'),
      c('Stale', 'False', Reason.MaxAgeExceeded, 'fresh'),
      c('Suspended', 'True', Reason.Suspended, 'spec.suspend is true'),
    ];
    expect(transitionEvents(undefined, first)).toEqual([
      { type: 'Warning', reason: Reason.Suspended, message: 'spec.suspend is true' },
    ]);
    expect(transitionEvents(first, replace(first, 'Ready', readyTrue))).toEqual([
      { type: 'Normal', reason: Reason.Succeeded, message: 'sync s-1 succeeded' },
    ]);
  });

  it('records nothing for Reconciling, which is progress (RunStarted says it)', () => {
    const working = [...healthy, c('Reconciling', 'True', Reason.RetryScheduled, 'attempt 2')];
    expect(transitionEvents(healthy, working)).toEqual([]);
    expect(transitionEvents(working, healthy)).toEqual([]);
  });
});

describe('plannedEvents: condition transitions', () => {
  const applied = { sync: undefined, drift: undefined, start: undefined, replace: undefined };

  it('records one Event when Ready=False repeats the stall of Stalled=True', () => {
    const stalled = [
      c('Ready', 'False', Reason.SecretNotFound, 'Secret "api" not found'),
      c('Stalled', 'True', Reason.SecretNotFound, 'Secret "api" not found'),
      ...healthy.filter((x) => x.type !== 'Ready'),
    ];
    const events = plannedEvents({
      previous: { conditions: healthy },
      status: { conditions: stalled },
      finished: [],
      applied,
      missed: 0,
    });
    expect(events).toEqual([
      { type: 'Warning', reason: Reason.SecretNotFound, message: 'Secret "api" not found' },
    ]);
  });

  it('records one Event per transition: Stale and Ready both turning', () => {
    const stale = [
      c('Ready', 'False', Reason.MaxAgeExceeded, 'the last sync is older than 1h'),
      ...replace(
        healthy,
        'Stale',
        c('Stale', 'True', Reason.MaxAgeExceeded, 'older than 1h'),
      ).filter((x) => x.type !== 'Ready'),
    ];
    const events = plannedEvents({
      previous: { conditions: healthy },
      status: { conditions: stale },
      finished: [],
      applied,
      missed: 0,
    });
    expect(events.map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Warning', 'MaxAgeExceeded', 'the last sync is older than 1h'],
      ['Warning', 'MaxAgeExceeded', 'older than 1h'],
    ]);
  });
});
