/**
 * When drift checks run: on `drift.interval` / `drift.schedule` (the first one an interval after
 * creation, not at creation), and at once on the drift-check-requested-at annotation. A drift
 * check never starts while another run of the Integration is active, so it never compares a
 * destination that a sync is still writing. Pure.
 */
import { DRIFT_CHECK_REQUESTED_ANNOTATION, Reason, type EffectivePolicy } from '../../api/index.ts';
import { floorSecond } from '../../lib/time.ts';
import { planSchedule } from '../plan/schedule.ts';
import type { Blocked } from './decide.ts';

/** The facts a drift decision is taken from. */
export interface DriftInput {
  uid: string;
  createdAt: Date;
  suspended: boolean;
  annotations: Readonly<Record<string, string>>;
  policy: EffectivePolicy;
  /** Due time of the last started drift check, observed Jobs included. */
  lastScheduled: Date | undefined;
  /** Whether any run (sync or drift check) of the Integration is active or starting. */
  busy: boolean;
  lastHandledRequest: string | undefined;
  now: Date;
}

/** What to do about drift checks now. */
export interface DriftDecision {
  start?: { dueTime: Date; why: 'Scheduled' | 'Requested' };
  lastScheduled: Date | undefined;
  handledRequest?: string;
  next: Date | undefined;
  /** An unplannable drift trigger (bad cron, unknown zone). */
  invalid?: Blocked;
}

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
    const message = `drift: ${planned.error.message}`;
    return {
      lastScheduled: input.lastScheduled,
      next: undefined,
      invalid: { reason: Reason.InvalidSpec, message },
    };
  }
  const base: DriftDecision = { lastScheduled: input.lastScheduled, next: planned.plan.next };
  if (input.suspended || input.busy) return base;
  const requested = input.annotations[DRIFT_CHECK_REQUESTED_ANNOTATION];
  if (requested !== undefined && requested !== input.lastHandledRequest) {
    const now = new Date(floorSecond(input.now));
    return {
      ...base,
      start: { dueTime: now, why: 'Requested' },
      lastScheduled: now,
      handledRequest: requested,
    };
  }
  const due = planned.plan.due;
  if (due === undefined || planned.plan.tooLate) return base;
  return { ...base, start: { dueTime: due, why: 'Scheduled' }, lastScheduled: due };
}
