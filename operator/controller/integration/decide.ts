/**
 * What to run next: the pure sync decision of the Integration reconciler. From the schedule, the
 * finished attempts of the current due run, the active runs, suspend, concurrencyPolicy and the
 * sync request annotation, it decides whether to start an attempt, wait, retry later, or stall,
 * as a tagged union callers `switch` on (in the manner of the CronJob controller's helpers).
 *
 * Stalled means stopped: once the attempts of a due run end in a stall (not retryable, or
 * retries exhausted) no run starts at later due times. One starts when the spec, the policy or a
 * referenced Secret changes, on a sync request, or at the slow probe: the first due time at
 * least {@link PROBE_AFTER_MS} after the failure (hourly, or the sync interval if longer).
 */
import {
  isReason,
  Reason,
  RESYNC_REQUESTED_ANNOTATION,
  SYNC_REQUESTED_ANNOTATION,
  type EffectivePolicy,
  type RunRecord,
} from '../../api/index.ts';
import { nextAttempt } from '../plan/backoff.ts';
import { floorSecond, rfc3339 } from '../../lib/time.ts';
import { pendingRequest as pendingAnnotation } from '../plan/requests.ts';
import { planSchedule, type SchedulePlan } from '../plan/schedule.ts';
import type { StallCause } from './causes.ts';
import type { ObservedRun } from './runs.ts';

/** How long a stalled Integration waits, at least, before one run probes whether it recovered. */
export const PROBE_AFTER_MS = 60 * 60 * 1000;

/** The facts a decision is taken from. */
export interface DecisionInput {
  /** metadata.uid: seeds the schedule's jitter. */
  uid: string;
  /** metadata.creationTimestamp: the anchor of intervals and the first run's due time. */
  createdAt: Date;
  /** metadata.generation differs from status.observedGeneration: the spec changed. */
  generationChanged: boolean;
  /** The resolved policy differs from status.effectivePolicy (its ReconcilePolicy changed). */
  policyChanged: boolean;
  /** A referenced Secret changed since the last attempt started (looked up while stalled). */
  credentialsChanged: boolean;
  /** spec.suspend: no new attempt starts. */
  suspended: boolean;
  /** metadata.annotations, read for the sync request. */
  annotations: Readonly<Record<string, string>>;
  /** The resolved policy in force. */
  policy: EffectivePolicy;
  /** Due time of the last started (or skipped) sync run, observed Jobs included. */
  lastScheduled: Date | undefined;
  /** The newest finished sync attempt of the `lastScheduled` due run, if any. */
  lastAttempt: RunRecord | undefined;
  /** The sync run in progress, if any. */
  active: ObservedRun | undefined;
  /** The drift check in progress, if any: no sync starts until it ends. */
  checking: ObservedRun | undefined;
  /** status.lastHandledSyncRequest: a request equal to it was already run. */
  lastHandledSyncRequest: string | undefined;
  /** status.lastHandledResyncRequest: a full-pass request equal to it was already run. */
  lastHandledResyncRequest?: string | undefined;
  /** status.retry as persisted: reused so a jittered delay is drawn once per attempt. */
  persistedRetry: { attempt: number; nextAttemptTime: string } | undefined;
  /** The current time. */
  now: Date;
  /** Uniform randomness in [0, 1) for retry jitter. */
  random: () => number;
}

/** Why an attempt starts. */
export type StartWhy =
  | 'Scheduled'
  | 'Retry'
  | 'Requested'
  | 'Resync'
  | 'SpecChanged'
  | 'PolicyChanged'
  | 'SecretChanged'
  | 'Probe';

/** The attempt to start: its due run (the Job name's time), attempt number and why. */
export interface SyncStart {
  /** Due time of the run this attempt belongs to (whole seconds). */
  dueTime: Date;
  /** 1 for a due run's first attempt, n+1 for a retry of attempt n. */
  attempt: number;
  /** What made it start, for the RunStarted Event. */
  why: StartWhy;
}

/** A failed attempt that waits for its next one, as persisted in status.retry. */
export interface PendingRetry {
  /** The attempt that failed. */
  attempt: number;
  /** RFC 3339 time the next attempt is due. */
  nextAttemptTime: string;
}

/** Schedule bookkeeping every plannable decision carries, started or not. */
export interface ScheduleFacts {
  /** The new status.lastScheduledTime. */
  lastScheduled: Date | undefined;
  /** Due runs skipped by startingDeadline or superseded, counted by this decision. */
  missed: number;
  /** When the next sync is due, for status.nextSyncTime and the requeue. */
  nextSyncTime: Date;
}

/** The sync decision: exactly one thing happens. */
export type SyncDecision =
  /** The sync trigger cannot be planned: Stalled/InvalidSpec. */
  | { kind: 'invalid'; cause: StallCause }
  /** Start `start`; delete `replace` first (concurrencyPolicy Replace); mark a request handled. */
  | (ScheduleFacts & {
      kind: 'start';
      start: SyncStart;
      replace?: ObservedRun | undefined;
      handledRequest?: string | undefined;
      handledResync?: string | undefined;
    })
  /** A run is due but the active sync (concurrencyPolicy Forbid) or drift check runs on. */
  | (ScheduleFacts & { kind: 'wait'; active: ObservedRun })
  /** The last attempt failed; the next starts at `retry.nextAttemptTime`. */
  | (ScheduleFacts & { kind: 'retry'; retry: PendingRetry })
  /**
   * Runs stopped until the spec, the policy or a Secret changes, a request, or the probe at
   * `nextSyncTime`.
   */
  | (ScheduleFacts & { kind: 'stalled'; cause: StallCause })
  /** Nothing to do now (suspended, nothing due, or a due run too late to start). */
  | (ScheduleFacts & { kind: 'idle' });

/** The consequence of the last failed attempt of the current due run. */
type AfterFailure =
  | { kind: 'retry'; retry: PendingRetry }
  | { kind: 'stalled'; cause: StallCause }
  | { kind: 'start'; start: SyncStart };

/** Decides the next sync; a trigger that cannot be planned is `invalid`. */
export function decide(input: DecisionInput): SyncDecision {
  const scheduled = planSchedule({
    trigger: input.policy.sync,
    uid: input.uid,
    createdAt: input.createdAt,
    lastScheduledTime: input.lastScheduled,
    now: input.now,
  });
  if (!scheduled.ok) {
    return {
      kind: 'invalid',
      cause: { kind: 'InvalidTrigger', trigger: 'sync', error: scheduled.error },
    };
  }
  const base: ScheduleFacts = {
    lastScheduled: input.lastScheduled,
    missed: 0,
    nextSyncTime: scheduled.plan.next,
  };
  if (input.suspended) return { ...base, kind: 'idle' };

  const request = pendingRequest(input);
  const failed = afterFailure(input);
  if (request !== undefined) return startOrWait(input, base, request);
  if (failed?.kind === 'stalled') return held(input, base, failed.cause);
  if (scheduled.plan.due !== undefined) return dueRun(input, base, scheduled.plan, failed);
  if (input.lastScheduled === undefined) {
    // A new Integration syncs at once whatever its trigger, so a nightly cron schedule proves
    // its configuration today instead of showing "waiting" until tonight.
    const createdAt = new Date(floorSecond(input.createdAt));
    const first = { due: createdAt, missed: 0, tooLate: false, next: scheduled.plan.next };
    return dueRun(input, base, first, failed);
  }
  return afterwards(input, base, failed);
}

/** Idle, or what the last failed attempt leads to: a retry to wait for or to start. */
function afterwards(
  input: DecisionInput,
  base: ScheduleFacts,
  failed: AfterFailure | undefined,
): SyncDecision {
  if (failed === undefined) return { ...base, kind: 'idle' };
  return failed.kind === 'start' ? startOrWait(input, base, failed.start) : { ...base, ...failed };
}

/**
 * A sync request starts a run now; so does a change of the spec, the policy or a Secret after a
 * failed attempt (a fix should not wait for a retry or a probe).
 */
function pendingRequest(input: DecisionInput): SyncStart | undefined {
  const now = new Date(floorSecond(input.now));
  const { annotations } = input;
  const resync = pendingAnnotation(
    annotations,
    RESYNC_REQUESTED_ANNOTATION,
    input.lastHandledResyncRequest,
  );
  if (resync !== undefined) {
    return { dueTime: now, attempt: 1, why: 'Resync' };
  }
  const requested = pendingAnnotation(
    annotations,
    SYNC_REQUESTED_ANNOTATION,
    input.lastHandledSyncRequest,
  );
  if (requested !== undefined) {
    return { dueTime: now, attempt: 1, why: 'Requested' };
  }
  if (input.lastAttempt?.outcome !== 'Failed' || input.active !== undefined) return undefined;
  const why: StartWhy | undefined = input.generationChanged
    ? 'SpecChanged'
    : input.policyChanged
      ? 'PolicyChanged'
      : input.credentialsChanged
        ? 'SecretChanged'
        : undefined;
  return why === undefined ? undefined : { dueTime: now, attempt: 1, why };
}

/**
 * Stalled by a failure: nothing starts at due times; the probe does, at the first due time at
 * least {@link PROBE_AFTER_MS} after the failure. Due times passed meanwhile are not missed runs:
 * they were held back on purpose.
 */
function held(input: DecisionInput, base: ScheduleFacts, cause: StallCause): SyncDecision {
  const failedAt = Date.parse(input.lastAttempt?.completionTime ?? '') || input.now.getTime();
  const after = new Date(floorSecond(new Date(failedAt + PROBE_AFTER_MS)));
  const probe = planSchedule({
    trigger: input.policy.sync,
    uid: input.uid,
    createdAt: input.createdAt,
    lastScheduledTime: after,
    now: after,
  });
  const probeAt = probe.ok ? probe.plan.next : after;
  if (probeAt.getTime() > input.now.getTime()) {
    const probing = { ...cause, probeAt: rfc3339(probeAt) } as StallCause;
    return { ...base, kind: 'stalled', cause: probing, nextSyncTime: probeAt };
  }
  return startOrWait(input, base, { dueTime: probeAt, attempt: 1, why: 'Probe' });
}

/** Starts `start`, or waits for the active sync under Forbid or for a drift check. */
function startOrWait(input: DecisionInput, base: ScheduleFacts, start: SyncStart): SyncDecision {
  const handledRequest =
    start.why === 'Requested' ? input.annotations[SYNC_REQUESTED_ANNOTATION] : undefined;
  const handledResync =
    start.why === 'Resync' ? input.annotations[RESYNC_REQUESTED_ANNOTATION] : undefined;
  if (input.active !== undefined && input.policy.sync.concurrencyPolicy === 'Forbid') {
    return { ...base, kind: 'wait', active: input.active };
  }
  // Never beside a drift check, whatever concurrencyPolicy says: it would compare a destination
  // being written, and a Repair built from its older read could land after this sync.
  if (input.checking !== undefined) return { ...base, kind: 'wait', active: input.checking };
  return {
    ...base,
    kind: 'start',
    start,
    lastScheduled: start.dueTime,
    ...(input.active ? { replace: input.active } : {}),
    ...(handledRequest === undefined ? {} : { handledRequest }),
    ...(handledResync === undefined ? {} : { handledResync }),
  };
}

/** A due run: started (counting the ones it supersedes), or skipped as too late. */
function dueRun(
  input: DecisionInput,
  base: ScheduleFacts,
  plan: SchedulePlan,
  failed: AfterFailure | undefined,
): SyncDecision {
  const due = plan.due as Date;
  if (plan.tooLate) {
    return afterwards(input, { ...base, lastScheduled: due, missed: plan.missed }, failed);
  }
  const decision = startOrWait(input, base, { dueTime: due, attempt: 1, why: 'Scheduled' });
  return decision.kind === 'start' ? { ...decision, missed: plan.missed } : decision;
}

/** The consequence of the last failed attempt of the current due run: retry later, or stall. */
function afterFailure(input: DecisionInput): AfterFailure | undefined {
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
    const reason = isReason(last.reason) ? last.reason : Reason.SyncFailed;
    return { kind: 'stalled', cause: { kind: 'NotRetryable', reason, message } };
  }
  const persisted = input.persistedRetry;
  const retry =
    persisted?.attempt === last.attempt
      ? { attempt: last.attempt, at: new Date(persisted.nextAttemptTime) }
      : nextRetry(input, last);
  if (retry === undefined) {
    const maxAttempts = input.policy.retry.maxAttempts;
    return {
      kind: 'stalled',
      cause: { kind: 'RetriesExhausted', maxAttempts, lastError: message },
    };
  }
  if (retry.at.getTime() > input.now.getTime()) {
    return { kind: 'retry', retry: { attempt: last.attempt, nextAttemptTime: rfc3339(retry.at) } };
  }
  const start = { dueTime: input.lastScheduled, attempt: last.attempt + 1, why: 'Retry' as const };
  return { kind: 'start', start };
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
