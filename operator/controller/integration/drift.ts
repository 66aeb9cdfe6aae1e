/**
 * When drift checks run: on `drift.interval` / `drift.schedule` (the first one an interval after
 * creation, not at creation), and at once on the drift-check-requested-at annotation; a failed
 * check is retried by the retry policy like a sync. None run with `drift.mode: Off`, nor for the
 * built-in connector without `spec.destination.list` (it could only fail). A drift check never
 * starts while another run of the Integration is active, and no sync starts while it runs
 * (decide.ts), so it never compares a destination being written. Pure.
 */
import {
  DRIFT_CHECK_REQUESTED_ANNOTATION,
  type EffectivePolicy,
  type RunRecord,
} from '../../api/index.ts';
import { floorSecond, rfc3339 } from '../../lib/time.ts';
import { nextAttempt } from '../plan/backoff.ts';
import { pendingRequest } from '../plan/requests.ts';
import { planSchedule } from '../plan/schedule.ts';
import type { StallCause } from './causes.ts';
import type { PendingRetry } from './decide.ts';

/** The facts a drift decision is taken from. */
export interface DriftInput {
  /** metadata.uid: seeds the schedule's jitter. */
  uid: string;
  /** metadata.creationTimestamp: the anchor of intervals. */
  createdAt: Date;
  /** spec.suspend: no drift check starts. */
  suspended: boolean;
  /** False for the built-in connector without spec.destination.list: nothing to compare with. */
  configured: boolean;
  /** metadata.annotations, read for the drift-check request. */
  annotations: Readonly<Record<string, string>>;
  /** The resolved policy in force. */
  policy: EffectivePolicy;
  /** Due time of the last started drift check, observed Jobs included. */
  lastScheduled: Date | undefined;
  /** The newest finished attempt of the `lastScheduled` drift check, if any. */
  lastAttempt: RunRecord | undefined;
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
  /** When the next drift check (or retry) is due, for status.nextDriftCheckTime and the requeue. */
  next: Date;
}

/** Why a drift check starts. */
export type DriftWhy = 'Scheduled' | 'Requested' | 'Retry';

/** What to do about drift checks now: exactly one thing happens. */
export type DriftDecision =
  /** The drift trigger cannot be planned: a Stalled/InvalidSpec cause. */
  | { kind: 'invalid'; cause: StallCause }
  /** No drift checks run: drift.mode Off, or nothing to list the destination with. */
  | { kind: 'disabled'; why: 'Off' | 'NotConfigured' }
  /** Start attempt `start.attempt` of the check due at `start.dueTime`. */
  | (DriftScheduleFacts & {
      kind: 'start';
      start: { dueTime: Date; attempt: number; why: DriftWhy };
      handledRequest?: string | undefined;
    })
  /** The last attempt failed; the next starts at `retry.nextAttemptTime` (also `next`). */
  | (DriftScheduleFacts & { kind: 'retry'; retry: PendingRetry })
  /** Nothing starts now (suspended, busy, or nothing due). */
  | (DriftScheduleFacts & { kind: 'idle' });

/** Decides whether a drift check starts now, and when the next one is due. */
export function decideDrift(input: DriftInput): DriftDecision {
  const { drift } = input.policy;
  if (drift.mode === 'Off') return { kind: 'disabled', why: 'Off' };
  if (!input.configured) return { kind: 'disabled', why: 'NotConfigured' };
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
  const retry = pendingRetry(input);
  const waiting = retry && { ...base, next: earliest(retry.at, base.next) };
  if (input.suspended || input.busy) return { ...(waiting ?? base), kind: 'idle' };
  const { annotations, lastHandledRequest } = input;
  const requested = pendingRequest(
    annotations,
    DRIFT_CHECK_REQUESTED_ANNOTATION,
    lastHandledRequest,
  );
  if (requested !== undefined) {
    const now = new Date(floorSecond(input.now));
    const start = { dueTime: now, attempt: 1, why: 'Requested' as const };
    return { ...base, kind: 'start', start, lastScheduled: now, handledRequest: requested };
  }
  const due = planned.plan.due;
  if (due !== undefined && !planned.plan.tooLate) {
    const start = { dueTime: due, attempt: 1, why: 'Scheduled' as const };
    return { ...base, kind: 'start', start, lastScheduled: due };
  }
  if (retry === undefined || waiting === undefined) return { ...base, kind: 'idle' };
  if (retry.at.getTime() > input.now.getTime()) {
    const pending = { attempt: retry.attempt - 1, nextAttemptTime: rfc3339(retry.at) };
    return { ...waiting, kind: 'retry', retry: pending };
  }
  const start = { dueTime: retry.dueTime, attempt: retry.attempt, why: 'Retry' as const };
  return { ...base, kind: 'start', start };
}

/** The next attempt of a failed check, by the retry policy; none when not retried or exhausted. */
function pendingRetry(input: DriftInput): { dueTime: Date; attempt: number; at: Date } | undefined {
  const last = input.lastAttempt;
  if (last?.outcome !== 'Failed' || last.error?.retryable === false) return undefined;
  if (input.lastScheduled === undefined) return undefined;
  const failedAt = last.completionTime ? new Date(last.completionTime) : input.now;
  // Drift retries keep no jitter state in status: the middle of the jitter range, every time.
  const next = nextAttempt({
    attempt: last.attempt,
    retry: input.policy.retry,
    random: () => 0.5,
    failedAt,
  });
  if (next.exhausted) return undefined;
  return { dueTime: input.lastScheduled, attempt: next.attempt, at: next.at };
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
