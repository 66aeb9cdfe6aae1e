/**
 * What a plan tells the world besides status: the Events of a reconcile (finished runs, missed
 * schedules, the run started, every condition transition) and when to reconcile again. Pure.
 */
import { isReason, Reason, type IntegrationStatus, type RunRecord } from '../../api/index.ts';
import { delayUntil } from '../plan/schedule.ts';
import { pollAfter, type StallCause } from './causes.ts';
import type { Applied, PlannedEvent } from './plan.ts';
import type { ObservedRun } from './runs.ts';
import { transitionEvents, withoutRepeats } from './transitions.ts';

/** The facts Events are taken from. */
export interface EventFacts {
  /** The status before this reconcile. */
  previous: IntegrationStatus;
  /** The status this reconcile writes, conditions included. */
  status: IntegrationStatus;
  /** Runs that finished since the last status write, newest first. */
  finished: readonly ObservedRun[];
  /** The decisions in force; `applied.start` is a run this reconcile created. */
  applied: Applied;
  /** Due sync runs this reconcile skipped. */
  missed: number;
}

/**
 * The Events of one reconcile, oldest first; Warning for what alerts select on. A condition that
 * repeats another's Event (Ready=False naming the stall of Stalled=True) adds none.
 */
export function plannedEvents(facts: EventFacts): PlannedEvent[] {
  const out = [...facts.finished].reverse().map(finishedEvent);
  if (facts.missed > 0) {
    out.push({
      type: 'Warning',
      reason: Reason.MissedSchedule,
      message: `${facts.missed} due sync run(s) skipped: they could not start before startingDeadline or were superseded`,
    });
  }
  const start = facts.applied.start;
  if (start) {
    out.push({
      type: 'Normal',
      reason: Reason.RunStarted,
      message: `${start.kind} attempt ${start.attempt} started as Job ${start.jobName} (${start.why})`,
    });
  }
  out.push(...transitionEvents(facts.previous.conditions, facts.status.conditions));
  return withoutRepeats(out);
}

function finishedEvent(run: ObservedRun): PlannedEvent {
  const record = run.record as RunRecord;
  switch (record.outcome) {
    case 'Failed':
      return {
        type: 'Warning',
        reason: reasonOf(record),
        message: `${run.kind} ${run.jobName} failed: ${record.error?.message ?? 'unknown error'}`,
      };
    case 'Succeeded':
      return {
        type: 'Normal',
        reason: Reason.RunSucceeded,
        message: `${run.kind} ${run.jobName} succeeded`,
      };
    case 'PartiallySucceeded':
      return {
        type: 'Normal',
        reason: Reason.RunPartiallySucceeded,
        message: `${run.kind} ${run.jobName} partially succeeded`,
      };
  }
}

/** A failed record's reason as a declared Reason; SyncFailed for one that is not. */
function reasonOf(record: RunRecord): Reason {
  return isReason(record.reason) ? record.reason : Reason.SyncFailed;
}

/** The timers and stalls a requeue is taken from. */
export interface RequeueFacts {
  /** When the next sync is due (decisions in force). */
  nextSyncTime: Date | undefined;
  /** When the next drift check is due (decisions in force). */
  nextDriftCheck: Date | undefined;
  /** When Stale flips if nothing else happens first. */
  staleAt: Date | undefined;
  /** When active runs with a start problem are ended unless it clears (pod-start.ts). */
  runEnds?: readonly Date[];
  /** When a webhook condition turns by time alone (webhook.ts webhookWakeups). */
  webhookTimes?: readonly Date[];
  /** The status written: its pending retry is a timer too. */
  status: IntegrationStatus;
  /** The stalls in force: some are polled (causes.ts). */
  stalls: readonly StallCause[];
  /** The current time. */
  now: Date;
}

/** The soonest timer or poll, at least a second away; nothing when there is none. */
export function requeueAfter(facts: RequeueFacts): { requeueAfterMs?: number } {
  const retry = facts.status.retry ? new Date(facts.status.retry.nextAttemptTime) : undefined;
  const times = [
    facts.nextSyncTime,
    retry,
    facts.staleAt,
    facts.nextDriftCheck,
    ...(facts.runEnds ?? []),
    ...(facts.webhookTimes ?? []),
  ];
  const delays = times.flatMap((time) => (time ? [delayUntil(time, facts.now)] : []));
  for (const stall of facts.stalls) {
    const poll = pollAfter(stall);
    if (poll !== undefined) delays.push(poll);
  }
  const soonest = Math.min(...delays);
  return Number.isFinite(soonest) ? { requeueAfterMs: Math.max(soonest, 1000) } : {};
}
