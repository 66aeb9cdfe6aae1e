/**
 * The Events of condition transitions, derived generically from the conditions before and after
 * a reconcile: every type, including types added later, gets one Event when its status or reason
 * changes and none while it stays. Pure.
 */
import { ConditionType, isReason, Reason, type Condition } from '../../api/index.ts';
import type { Conditions } from '../plan/conditions.ts';
import type { PlannedEvent } from './plan.ts';

/** Types whose healthy status is True (kstatus normal-true); every other type is abnormal-true. */
const NORMAL_TRUE: ReadonlySet<string> = new Set([ConditionType.Ready, ConditionType.Synced]);

/**
 * Types that get no transition Events: Reconciling is progress, not state; RunStarted and the
 * run's finished Event already say what it would.
 */
const SILENT: ReadonlySet<string> = new Set([ConditionType.Reconciling]);

/** Reasons of a state that waits for a first result: nothing has gone right or wrong yet. */
const PENDING: ReadonlySet<string> = new Set([Reason.AwaitingFirstRun, Reason.Progressing]);

/**
 * Whether a condition reports a problem: a normal-true type that is False, or an abnormal-true
 * type that is True. Unknown is not a problem by itself (nothing is known yet, or a check could
 * not tell): its Event is Normal, and the run that failed to tell has a Warning of its own.
 */
export function isAbnormal(condition: Pick<Condition, 'type' | 'status'>): boolean {
  return condition.status === (NORMAL_TRUE.has(condition.type) ? 'False' : 'True');
}

/**
 * One Event per condition whose status or reason changed between `previous` and `next`, in the
 * order of `next` (Ready first), then the conditions that were removed. Warning when the new
 * state is abnormal, Normal otherwise; the message is the condition's own. A change into a
 * pending state (AwaitingFirstRun, Progressing) is not an Event (RunStarted tells it), nor is a
 * condition that first appears as Unknown.
 */
export function transitionEvents(previous: Conditions, next: Conditions): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  for (const after of next ?? []) {
    if (SILENT.has(after.type)) continue;
    const event = changed(find(previous, after.type), after);
    if (event) events.push(event);
  }
  for (const before of previous ?? []) {
    if (SILENT.has(before.type) || find(next, before.type) !== undefined) continue;
    const event = removed(before);
    if (event) events.push(event);
  }
  return events;
}

/** The Event of a condition present after the reconcile, if it changed. */
function changed(before: Condition | undefined, after: Condition): PlannedEvent | undefined {
  if (!isReason(after.reason) || PENDING.has(after.reason)) return undefined;
  // A condition that appears as Unknown tells nothing yet (no sync has succeeded, no drift
  // check is configured): the condition itself says so.
  if (before === undefined && after.status === 'Unknown') return undefined;
  // An abnormal-true type that did not exist was False: appearing as False is no change.
  const was = before?.status ?? (NORMAL_TRUE.has(after.type) ? undefined : 'False');
  if (was === after.status && (before === undefined || before.reason === after.reason)) {
    return undefined;
  }
  return {
    type: isAbnormal(after) ? 'Warning' : 'Normal',
    reason: after.reason,
    message: after.message,
  };
}

/**
 * The Event of a condition the reconcile removed: an abnormal-true type present only while true
 * (Stalled) that no longer holds. A removed healthy condition is no news.
 */
function removed(before: Condition): PlannedEvent | undefined {
  if (!isAbnormal(before) || NORMAL_TRUE.has(before.type)) return undefined;
  return {
    type: 'Normal',
    reason: Reason.Resolved,
    message: `${before.type} cleared: ${before.reason} no longer holds (was: ${before.message})`,
  };
}

function find(conditions: Conditions, type: string): Condition | undefined {
  return (conditions ?? []).find((condition) => condition.type === type);
}

/** `events` without exact repeats (type, reason and message), first occurrence kept. */
export function withoutRepeats(events: readonly PlannedEvent[]): PlannedEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    const key = JSON.stringify([event.type, event.reason, event.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
