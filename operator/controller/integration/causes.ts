/**
 * Causes: every outcome of a reconcile that status reports, as one tagged union. The planner and
 * the reconciler only name causes; {@link explain} alone turns a cause into the reason and
 * message users read, and summary.ts alone turns causes into conditions. Pure.
 */
import { Reason } from '../../api/index.ts';
import type { ScheduleError } from '../plan/schedule.ts';

/**
 * How often a missing Secret is looked for again, and a held Integration's Secrets are looked at
 * for a change: Secrets are not watched (the operator may only `get` them).
 */
export const SECRET_POLL_MS = 15_000;
/**
 * How often a run that could not be created is tried again: what refused it (a foreign Job of
 * the same name, later a quota) changes without an event this operator watches.
 */
export const RUN_NOT_CREATED_POLL_MS = 60_000;

/** A reason and a message, as a condition or an Event carries them. */
export interface Explanation {
  /** CamelCase reason from the one Reason module. */
  reason: Reason;
  /** What happened and what to do, for humans. */
  message: string;
}

/** Why a run the decisions asked for was not created; each code is also its reason. */
export type RunRefusal = typeof Reason.JobNameConflict | typeof Reason.JobRejected;

/** A cause only a human can resolve: Stalled=True, Ready=False, Reconciling absent. */
export type StallCause =
  /** The stored object fails validation; `errors` name the fields. */
  | { kind: 'InvalidObject'; errors: readonly string[] }
  /** spec.policyRef names a ReconcilePolicy that does not exist. */
  | { kind: 'PolicyNotFound'; namespace: string; name: string }
  /** The referenced ReconcilePolicy fails validation. */
  | { kind: 'InvalidPolicy'; name: string; errors: readonly string[] }
  /** The sync or drift trigger in force cannot be planned (bad cron, unknown time zone). */
  | { kind: 'InvalidTrigger'; trigger: 'sync' | 'drift'; error: ScheduleError }
  /** Referenced Secrets do not exist; `secrets` are quoted names. Polled: Secrets are not watched. */
  | { kind: 'SecretNotFound'; namespace: string; secrets: readonly string[] }
  /** The API server refused the lookup of a referenced Secret; `detail` is its answer. */
  | { kind: 'SecretLookupFailed'; namespace: string; secret: string; detail: string }
  /** The active run's pod cannot start its container (e.g. a missing Secret key). */
  | { kind: 'PodConfigError'; jobName: string; message: string }
  /**
   * The last attempt failed with an error that is not retried; `reason` is the run's. No run
   * starts until a change, a request or the probe at `probeAt`.
   */
  | { kind: 'NotRetryable'; reason: Reason; message: string; probeAt?: string }
  /** Every attempt of the due run failed; held like NotRetryable. */
  | { kind: 'RetriesExhausted'; maxAttempts: number; lastError: string; probeAt?: string }
  /** The run's Job could not be created; `refusal` says why, `detail` what to do. */
  | { kind: 'RunNotCreated'; refusal: RunRefusal; jobName: string; detail: string };

/** Work the operator finishes by itself: Reconciling=True (unless something stalls). */
export type ProgressCause =
  /** This reconcile created the run's Job. */
  | { kind: 'RunStarting'; jobName: string; attempt: number }
  /** A due sync waits for the active sync (concurrencyPolicy Forbid) or drift check. */
  | { kind: 'RunWaiting'; activeJob: string; activeKind: 'sync' | 'drift-check' }
  /** A sync attempt is running; `waiting` is its pod's waiting state, if any. */
  | { kind: 'RunActive'; jobName: string; attempt: number; waiting?: PodWaiting | undefined }
  /** A failed attempt waits for its next one. */
  | { kind: 'RetryScheduled'; attempt: number; nextAttemptTime: string }
  /** No sync has finished yet and none is running. */
  | { kind: 'AwaitingFirstRun' };

/** Why a pod waits, as the kubelet says. */
export interface PodWaiting {
  /** The kubelet's reason, e.g. ImagePullBackOff. */
  reason: string;
  /** The kubelet's message. */
  message: string;
}

/** Any outcome status reports. */
export type Cause = StallCause | ProgressCause;

/** True for causes that stall (need a human); false for progress. */
export function isStall(cause: Cause): cause is StallCause {
  switch (cause.kind) {
    case 'RunStarting':
    case 'RunWaiting':
    case 'RunActive':
    case 'RetryScheduled':
    case 'AwaitingFirstRun':
      return false;
    default:
      return true;
  }
}

/** The reason and message of a cause: the only place they are worded. */
export function explain(cause: Cause): Explanation {
  return isStall(cause) ? explainStall(cause) : explainProgress(cause);
}

function explainStall(cause: StallCause): Explanation {
  switch (cause.kind) {
    case 'InvalidObject':
      return invalid(`spec is invalid: ${cause.errors.slice(0, 5).join('; ')}`);
    case 'PolicyNotFound':
      return {
        reason: Reason.PolicyNotFound,
        message: `ReconcilePolicy "${cause.name}" not found in namespace ${cause.namespace}: create it or fix spec.policyRef`,
      };
    case 'InvalidPolicy':
      return invalid(`ReconcilePolicy "${cause.name}" is invalid: ${cause.errors.join('; ')}`);
    case 'InvalidTrigger':
      // The sync trigger's message predates this prefix; drift says which trigger it is about.
      return invalid(`${cause.trigger === 'drift' ? 'drift: ' : ''}${cause.error.message}`);
    case 'SecretNotFound':
      return {
        reason: Reason.SecretNotFound,
        message: `Secret ${cause.secrets.join(', ')} not found in namespace ${cause.namespace}: create it; runs resume on their own`,
      };
    case 'SecretLookupFailed':
      return {
        reason: Reason.SecretLookupFailed,
        message: `could not check Secret "${cause.secret}" in namespace ${cause.namespace}: ${cause.detail}; the operator needs "get" on Secrets there (see the RBAC of manifests/install.yaml)`,
      };
    case 'PodConfigError':
      return {
        reason: Reason.SecretNotFound,
        message: `run ${cause.jobName} cannot start: ${cause.message}`,
      };
    case 'NotRetryable':
      return { reason: cause.reason, message: `${cause.message}${held(cause.probeAt)}` };
    case 'RetriesExhausted':
      return {
        reason: Reason.RetriesExhausted,
        message: `all ${cause.maxAttempts} attempts failed; the last: ${cause.lastError}${held(cause.probeAt)}`,
      };
    case 'RunNotCreated':
      return { reason: cause.refusal, message: `Job ${cause.jobName} ${cause.detail}` };
  }
}

function explainProgress(cause: ProgressCause): Explanation {
  switch (cause.kind) {
    case 'RunStarting':
      return progressing(`sync attempt ${cause.attempt} started (Job ${cause.jobName})`);
    case 'RunWaiting':
      return progressing(
        cause.activeKind === 'sync'
          ? `a sync is due but ${cause.activeJob} is still running (concurrencyPolicy Forbid)`
          : `a sync is due and starts when drift check ${cause.activeJob} ends (they never overlap)`,
      );
    case 'RunActive': {
      const { waiting } = cause;
      const pod = waiting ? `; pod waiting: ${waiting.reason} ${waiting.message}` : '';
      return progressing(`sync attempt ${cause.attempt} is running (Job ${cause.jobName})${pod}`);
    }
    case 'RetryScheduled':
      return {
        reason: Reason.RetryScheduled,
        message: `attempt ${cause.attempt + 1} starts at ${cause.nextAttemptTime}`,
      };
    case 'AwaitingFirstRun':
      return { reason: Reason.AwaitingFirstRun, message: 'waiting for the first sync' };
  }
}

/**
 * What a stall cause holds back: `all` keeps the schedule as it was and starts nothing (the
 * spec or its surroundings must be fixed first); `drift` still applies the sync decision but
 * plans no drift check (comparing while syncs cannot succeed would report noise).
 */
export function withholds(cause: StallCause): 'all' | 'drift' {
  switch (cause.kind) {
    case 'InvalidObject':
    case 'PolicyNotFound':
    case 'InvalidPolicy':
    case 'InvalidTrigger':
    case 'SecretNotFound':
    case 'SecretLookupFailed':
    case 'RunNotCreated':
      return 'all';
    case 'PodConfigError':
    case 'NotRetryable':
    case 'RetriesExhausted':
      return 'drift';
  }
}

/** How soon a stall is looked at again by itself, in ms; undefined when an event will tell. */
export function pollAfter(cause: StallCause): number | undefined {
  switch (cause.kind) {
    case 'SecretNotFound':
    case 'SecretLookupFailed':
      return SECRET_POLL_MS;
    case 'RunNotCreated':
      return RUN_NOT_CREATED_POLL_MS;
    case 'NotRetryable':
    case 'RetriesExhausted':
      // Held back: the Secrets are looked at again (a fix there starts a run).
      return cause.probeAt === undefined ? undefined : SECRET_POLL_MS;
    default:
      return undefined;
  }
}

/** Which stall Stalled and Ready report when several hold: the spec first, then the world. */
const STALL_ORDER: readonly StallCause['kind'][] = [
  'InvalidObject',
  'PolicyNotFound',
  'InvalidPolicy',
  'SecretNotFound',
  'SecretLookupFailed',
  'InvalidTrigger',
  'NotRetryable',
  'RetriesExhausted',
  'PodConfigError',
  'RunNotCreated',
];

/** The stall causes among `causes`, most important first (stable for equal kinds). */
export function stallsByImportance(causes: readonly Cause[]): StallCause[] {
  return causes
    .filter(isStall)
    .sort((a, b) => STALL_ORDER.indexOf(a.kind) - STALL_ORDER.indexOf(b.kind));
}

/** What a held stall waits for, appended to its message. */
function held(probeAt: string | undefined): string {
  if (probeAt === undefined) return '';
  return `; runs are stopped until the spec, the policy or a referenced Secret changes or tributary.dev/sync-requested-at is set; one run probes at ${probeAt}`;
}

function invalid(message: string): Explanation {
  return { reason: Reason.InvalidSpec, message };
}

function progressing(message: string): Explanation {
  return { reason: Reason.Progressing, message };
}
