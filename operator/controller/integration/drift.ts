/**
 * When drift checks run: on `drift.interval` / `drift.schedule` (the first one an interval after
 * creation, not at creation), and at once on the drift-check-requested-at annotation. A drift
 * check never starts while another run of the Integration is active, so it never compares a
 * destination that a sync is still writing. Pure.
 */
import { DRIFT_CHECK_REQUESTED_ANNOTATION, type EffectivePolicy } from '../../api/index.ts';
import { floorSecond } from '../../lib/time.ts';
import { planSchedule } from '../plan/schedule.ts';
import type { StallCause } from './causes.ts';

/** The facts a drift decision is taken from. */
export interface DriftInput {
  /** metadata.uid: seeds the schedule's jitter. */
  uid: string;
  /** metadata.creationTimestamp: the anchor of intervals. */
  createdAt: Date;
  /** spec.suspend: no drift check starts. */
  suspended: boolean;
  /** metadata.annotations, read for the drift-check request. */
  annotations: Readonly<Record<string, string>>;
  /** The resolved policy in force. */
  policy: EffectivePolicy;
  /** Due time of the last started drift check, observed Jobs included. */
  lastScheduled: Date | undefined;
  /** Whether any run (sync or drift check) of the Integration is active or starting. */
  busy: boolean;
  /** status.lastHandledDriftCheckRequest: a request equal to it was already run. */
  lastHandledRequest: string | undefined;
  /** The current time. */
  now: Date;
}

/** Schedule bookkeeping of a plannable drift decision. */
export interface DriftScheduleFacts {
  /** The new status.lastScheduledDriftCheckTime. */
  lastScheduled: Date | undefined;
  /** When the next drift check is due, for status.nextDriftCheckTime and the requeue. */
  next: Date;
}

/** What to do about drift checks now: exactly one thing happens. */
export type DriftDecision =
  /** The drift trigger cannot be planned: a Stalled/InvalidSpec cause. */
  | { kind: 'invalid'; cause: StallCause }
  /** Start a drift check due at `start.dueTime`; a request it answers becomes handled. */
  | (DriftScheduleFacts & {
      kind: 'start';
      start: { dueTime: Date; why: 'Scheduled' | 'Requested' };
      handledRequest?: string | undefined;
    })
  /** Nothing starts now (suspended, busy, or nothing due). */
  | (DriftScheduleFacts & { kind: 'idle' });

/** Decides whether a drift check starts now, and when the next one is due. */
export function decideDrift(input: DriftInput): DriftDecision {
  const { drift } = input.policy;
  const planned = planSchedule({
    trigger: { interval: drift.interval, schedule: drift.schedule, timeZone: drift.timeZone },
    uid: input.uid,
    createdAt: input.createdAt,
    lastScheduledTime: input.lastScheduled ?? input.createdAt,
    now: input.now,
  });
  if (!planned.ok) {
    return {
      kind: 'invalid',
      cause: { kind: 'InvalidTrigger', trigger: 'drift', error: planned.error },
    };
  }
  const base = { lastScheduled: input.lastScheduled, next: planned.plan.next };
  if (input.suspended || input.busy) return { ...base, kind: 'idle' };
  const requested = input.annotations[DRIFT_CHECK_REQUESTED_ANNOTATION];
  if (requested !== undefined && requested !== input.lastHandledRequest) {
    const now = new Date(floorSecond(input.now));
    const start = { dueTime: now, why: 'Requested' as const };
    return { ...base, kind: 'start', start, lastScheduled: now, handledRequest: requested };
  }
  const due = planned.plan.due;
  if (due === undefined || planned.plan.tooLate) return { ...base, kind: 'idle' };
  return { ...base, kind: 'start', start: { dueTime: due, why: 'Scheduled' }, lastScheduled: due };
}
