/**
 * What to run next: the pure decision of the Integration reconciler. From the schedule, the
 * finished attempts of the current due run, the active run, suspend, concurrencyPolicy and the
 * sync request annotation, it decides whether to start an attempt, wait, or stay stalled.
 */
import {
  Reason,
  SYNC_REQUESTED_ANNOTATION,
  type EffectivePolicy,
  type RunRecord,
} from '../../api/index.ts';
import { nextAttempt } from '../plan/backoff.ts';
import { floorSecond, rfc3339 } from '../../lib/time.ts';
import { planSchedule, type SchedulePlan } from '../plan/schedule.ts';
import type { ObservedRun } from './runs.ts';

/** The facts a decision is taken from. */
export interface DecisionInput {
  uid: string;
  createdAt: Date;
  generationChanged: boolean;
  suspended: boolean;
  annotations: Readonly<Record<string, string>>;
  policy: EffectivePolicy;
  /** Due time of the last started (or skipped) sync run, observed Jobs included. */
  lastScheduled: Date | undefined;
  /** The newest finished sync attempt of the `lastScheduled` due run, if any. */
  lastAttempt: RunRecord | undefined;
  /** The sync run in progress, if any. */
  active: ObservedRun | undefined;
  lastHandledSyncRequest: string | undefined;
  /** status.retry as persisted: reused so a jittered delay is drawn once per attempt. */
  persistedRetry: { attempt: number; nextAttemptTime: string } | undefined;
  now: Date;
  random: () => number;
}

/** Why no new attempt starts although one might be expected. */
export interface Blocked {
  reason: Reason;
  message: string;
}

/** The decision: what to start, replace or record, and when to look again. */
export interface Decision {
  /** Start this attempt. */
  start?: {
    dueTime: Date;
    attempt: number;
    why: 'Scheduled' | 'Retry' | 'Requested' | 'SpecChanged';
  };
  /** Delete the active run first (concurrencyPolicy Replace). */
  replace?: ObservedRun;
  /** The new lastScheduledTime. */
  lastScheduled: Date | undefined;
  /** Due runs skipped by startingDeadline or superseded. */
  missed: number;
  /** Set when a failed attempt waits for its next one. */
  retry?: { attempt: number; nextAttemptTime: string };
  /** Set when attempts stopped until the next due run, a request or a spec change. */
  stalled?: Blocked;
  /** Set when a due run waits for the active one (Forbid). */
  waiting?: Blocked;
  /** The sync request value that is now handled. */
  handledRequest?: string;
  /** When the next sync is due. */
  nextSyncTime: Date | undefined;
}

/** A scheduling error (bad cron, unknown zone) becomes Stalled/InvalidSpec. */
export function decide(input: DecisionInput): Decision | Blocked {
  const scheduled = planSchedule({
    trigger: input.policy.sync,
    uid: input.uid,
    createdAt: input.createdAt,
    lastScheduledTime: input.lastScheduled,
    now: input.now,
  });
  if (!scheduled.ok) return { reason: Reason.InvalidSpec, message: scheduled.error.message };
  const base: Decision = {
    lastScheduled: input.lastScheduled,
    missed: 0,
    nextSyncTime: scheduled.plan.next,
  };
  if (input.suspended) return base;

  const request = pendingRequest(input);
  const failed = failedAttempt(input);
  if (request !== undefined) return startOrWait(input, base, request, failed);
  if (scheduled.plan.due !== undefined) return dueRun(input, base, scheduled.plan, failed);
  if (input.lastScheduled === undefined) {
    // A new Integration syncs at once whatever its trigger, so a nightly cron schedule proves
    // its configuration today instead of showing "waiting" until tonight.
    const createdAt = new Date(floorSecond(input.createdAt));
    return dueRun(
      input,
      base,
      { due: createdAt, missed: 0, tooLate: false, next: scheduled.plan.next },
      failed,
    );
  }
  if (failed !== undefined) return { ...base, ...failed };
  return base;
}

/** A sync request annotation or a spec change after a stall starts a run now. */
function pendingRequest(input: DecisionInput): Decision['start'] | undefined {
  const now = new Date(floorSecond(input.now));
  const requested = input.annotations[SYNC_REQUESTED_ANNOTATION];
  if (requested !== undefined && requested !== input.lastHandledSyncRequest) {
    return { dueTime: now, attempt: 1, why: 'Requested' };
  }
  const stalledByFailure =
    input.lastAttempt?.outcome === 'Failed' &&
    input.active === undefined &&
    input.generationChanged;
  return stalledByFailure ? { dueTime: now, attempt: 1, why: 'SpecChanged' } : undefined;
}

function startOrWait(
  input: DecisionInput,
  base: Decision,
  start: NonNullable<Decision['start']>,
  failed: Pick<Decision, 'retry' | 'stalled'> | undefined,
): Decision {
  const handledRequest =
    start.why === 'Requested' ? input.annotations[SYNC_REQUESTED_ANNOTATION] : undefined;
  if (input.active !== undefined && input.policy.sync.concurrencyPolicy === 'Forbid') {
    const message = `a sync is due but ${input.active.jobName} is still running (concurrencyPolicy Forbid)`;
    return { ...base, ...failed, waiting: { reason: Reason.Progressing, message } };
  }
  return {
    ...base,
    start,
    lastScheduled: start.dueTime,
    ...(input.active ? { replace: input.active } : {}),
    ...(handledRequest === undefined ? {} : { handledRequest }),
  };
}

function dueRun(
  input: DecisionInput,
  base: Decision,
  plan: SchedulePlan,
  failed: Pick<Decision, 'retry' | 'stalled'> | undefined,
): Decision {
  const due = plan.due as Date;
  if (plan.tooLate) {
    return { ...base, ...failed, lastScheduled: due, missed: plan.missed };
  }
  const decision = startOrWait(input, base, { dueTime: due, attempt: 1, why: 'Scheduled' }, failed);
  return decision.start ? { ...decision, missed: plan.missed } : decision;
}

/** The consequence of the last failed attempt of the current due run: retry later, or stall. */
function failedAttempt(
  input: DecisionInput,
): Pick<Decision, 'retry' | 'stalled' | 'start'> | undefined {
  const last = input.lastAttempt;
  if (
    input.active !== undefined ||
    last?.outcome !== 'Failed' ||
    input.lastScheduled === undefined
  ) {
    return undefined;
  }
  const message = last.error?.message ?? 'the run failed';
  if (last.error?.retryable === false) {
    return {
      stalled: { reason: (last.reason as Reason | undefined) ?? Reason.SyncFailed, message },
    };
  }
  const persisted = input.persistedRetry;
  const retry =
    persisted?.attempt === last.attempt
      ? { attempt: last.attempt, at: new Date(persisted.nextAttemptTime) }
      : nextRetry(input, last);
  if (retry === undefined) {
    return {
      stalled: {
        reason: Reason.RetriesExhausted,
        message: `all ${input.policy.retry.maxAttempts} attempts failed; the last: ${message}`,
      },
    };
  }
  const pending = { attempt: last.attempt, nextAttemptTime: rfc3339(retry.at) };
  if (retry.at.getTime() > input.now.getTime()) return { retry: pending };
  return { start: { dueTime: input.lastScheduled, attempt: last.attempt + 1, why: 'Retry' } };
}

function nextRetry(
  input: DecisionInput,
  last: RunRecord,
): { attempt: number; at: Date } | undefined {
  const failedAt = last.completionTime ? new Date(last.completionTime) : input.now;
  const next = nextAttempt({
    attempt: last.attempt,
    retry: input.policy.retry,
    random: input.random,
    failedAt,
  });
  return next.exhausted ? undefined : { attempt: last.attempt, at: next.at };
}
