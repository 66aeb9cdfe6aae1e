/**
 * The conditions of an Integration, computed from what the plan decided and observed. Pure.
 * Polarity follows kstatus: Ready is normal-true; Reconciling and Stalled are present only while
 * true; the other abnormal-true conditions are always present so dashboards see False too.
 */
import {
  ConditionType,
  isReason,
  parseDuration,
  Reason,
  type Condition,
  type EffectivePolicy,
  type IntegrationStatus,
} from '../../api/index.ts';
import {
  markReconciling,
  markSettled,
  markStalled,
  removeCondition,
  setCondition,
  type ConditionChange,
  type ConditionContext,
  type Conditions,
} from '../plan/conditions.ts';
import {
  explain,
  isStall,
  stallsByImportance,
  type Cause,
  type Explanation,
  type ProgressCause,
} from './causes.ts';
import { completion } from './record.ts';

/** What the conditions are computed from. */
export interface SummaryInput {
  /** The conditions as stored: lastTransitionTime is kept for those that do not change. */
  previous: Conditions;
  /** The generation stamped on every condition, and the time of those that change. */
  context: ConditionContext;
  /**
   * Every cause that holds, in any order: the most important stall names Stalled and Ready;
   * otherwise the first progress cause names Reconciling.
   */
  causes: readonly Cause[];
  /**
   * What the other conditions (Synced, Stale, Drifted, ...) are computed from. Absent for an
   * object that cannot be read (fails validation): those conditions then stay as they were.
   */
  observed?: ObservedSummary | undefined;
}

/** The facts of a readable Integration the other conditions are computed from. */
export interface ObservedSummary {
  /** metadata.creationTimestamp: Stale counts from it until a sync succeeds. */
  createdAt: Date;
  /** spec.suspend. */
  suspended: boolean;
  /** The policy in force; undefined when it could not be resolved. */
  policy: EffectivePolicy | undefined;
  /** Why no drift checks run, when they do not: drift.mode Off, or no destination.list. */
  driftDisabled?: 'Off' | 'NotConfigured' | undefined;
  /** The status being written, for the outcome of the last sync, drift check and quarantine. */
  status: Pick<
    IntegrationStatus,
    | 'lastSync'
    | 'lastSuccessfulSyncTime'
    | 'quarantine'
    | 'deprecation'
    | 'drift'
    | 'lastDriftCheck'
    | 'nextDriftCheckTime'
  >;
}

/** The conditions, and when Stale will flip if nothing else happens first. */
export interface Summary {
  /** Every condition, sorted (Ready, Reconciling, Stalled, then by type). */
  conditions: Condition[];
  /** When Stale turns True if no sync succeeds first; undefined when it cannot or already did. */
  staleAt: Date | undefined;
}

/** Computes every condition of an Integration from its causes and observed facts. */
export function summarize(input: SummaryInput): Summary {
  const { context, observed } = input;
  const stall = stallsByImportance(input.causes)[0];
  const progress = input.causes.find((cause): cause is ProgressCause => !isStall(cause));
  const stalled = stall && explain(stall);
  const working = reconciling(stalled, progress && explain(progress), observed?.suspended);
  let conditions = stalled
    ? markStalled(input.previous, stalled, context)
    : working
      ? markReconciling(input.previous, working, context)
      : markSettled(input.previous);
  if (observed === undefined) {
    const ready = stalled && notReady(stalled.reason, stalled.message);
    return {
      conditions: ready ? setCondition(conditions, ready, context) : conditions,
      staleAt: undefined,
    };
  }
  const facts = { ...observed, now: context.now, stalled, progress: progress && explain(progress) };
  const synced = syncedCondition(facts);
  const { stale, staleAt } = staleCondition(facts);
  const degraded = degradedCondition(facts);
  const drifted = driftedCondition(facts);
  const ready = readyCondition(facts, synced, stale, drifted, degraded);
  for (const change of [
    synced,
    drifted,
    stale,
    degraded,
    deprecatedCondition(facts),
    suspendedCondition(facts),
    ready,
  ]) {
    conditions = setCondition(conditions, change, context);
  }
  // kstatus reads Ready=True beside Reconciling=True as InProgress: a routine sync of fresh
  // data is not work a human or a GitOps tool should wait on (status.activeRun shows it).
  if (ready.status === 'True') conditions = removeCondition(conditions, ConditionType.Reconciling);
  return { conditions, staleAt };
}

/** The facts each condition below is computed from. */
interface Facts extends ObservedSummary {
  now: Date;
  stalled: Explanation | undefined;
  progress: Explanation | undefined;
}

/**
 * Reconciling, as kstatus reads it (InProgress): work the operator will finish by itself. Not
 * while Stalled (a human must act first), not while Ready (see summarize), and while suspended
 * only for a run still going.
 */
function reconciling(
  stalled: Explanation | undefined,
  progress: Explanation | undefined,
  suspended: boolean | undefined,
): Explanation | undefined {
  if (stalled !== undefined) return undefined;
  if (suspended === true && progress?.reason !== Reason.Progressing) return undefined;
  return progress;
}

function notReady(reason: Reason, message: string): ConditionChange {
  return { type: ConditionType.Ready, status: 'False', reason, message };
}

function suspendedCondition({ suspended }: Facts): ConditionChange {
  return {
    type: ConditionType.Suspended,
    status: suspended ? 'True' : 'False',
    reason: Reason.Suspended,
    message: suspended
      ? 'spec.suspend is true: no new runs start; set it to false to resume'
      : 'runs start on schedule',
  };
}

function syncedCondition({ status }: Facts): ConditionChange {
  const last = status.lastSync;
  if (last === undefined) {
    return {
      type: ConditionType.Synced,
      status: 'Unknown',
      reason: Reason.AwaitingFirstRun,
      message: 'no sync has finished yet',
    };
  }
  if (last.outcome === 'Failed') {
    return {
      type: ConditionType.Synced,
      status: 'False',
      reason: isReason(last.reason) ? last.reason : Reason.SyncFailed,
      message: `attempt ${last.attempt} failed: ${last.error?.message ?? 'unknown error'}`,
    };
  }
  const stats = last.stats;
  const counts = stats
    ? `: read ${stats.read}, written ${stats.written}, unchanged ${stats.unchanged}, quarantined ${stats.quarantined}`
    : '';
  return {
    type: ConditionType.Synced,
    status: 'True',
    reason: last.outcome === 'Succeeded' ? Reason.Succeeded : Reason.PartiallySucceeded,
    message: `sync ${last.jobName} ${last.outcome === 'Succeeded' ? 'succeeded' : 'partially succeeded'}${counts}`,
  };
}

function staleCondition(input: Facts): {
  stale: ConditionChange;
  staleAt: Date | undefined;
} {
  const maxAge = parseDuration(input.policy?.freshness.maxAge ?? '');
  const since = input.status.lastSuccessfulSyncTime;
  const from = since === undefined ? input.createdAt : new Date(since);
  const staleAt = maxAge === undefined ? undefined : new Date(from.getTime() + maxAge);
  const isStale = staleAt !== undefined && staleAt.getTime() <= input.now.getTime();
  const what =
    since === undefined
      ? 'no sync has succeeded since creation'
      : `the last successful sync was at ${since}`;
  return {
    staleAt: isStale ? undefined : staleAt,
    stale: {
      type: ConditionType.Stale,
      status: isStale ? 'True' : 'False',
      reason: Reason.MaxAgeExceeded,
      message: isStale
        ? `${what}, more than freshness.maxAge (${input.policy?.freshness.maxAge ?? ''}) ago`
        : `data is fresher than freshness.maxAge (${input.policy?.freshness.maxAge ?? 'unknown'})`,
    },
  };
}

/** Drifted: Unknown says why nothing is known (disabled, not configured, failed, not yet). */
function driftedCondition({ status, policy, driftDisabled }: Facts): ConditionChange {
  const unknown = (reason: Reason, message: string): ConditionChange => ({
    type: ConditionType.Drifted,
    status: 'Unknown',
    reason,
    message,
  });
  if (driftDisabled === 'Off') {
    return unknown(Reason.DriftCheckDisabled, 'drift.mode is Off: no drift checks run');
  }
  if (driftDisabled === 'NotConfigured') {
    return unknown(
      Reason.DriftCheckNotConfigured,
      'set spec.destination.list to enable drift checks: the built-in connector compares the source with that listing',
    );
  }
  const drift = status.drift;
  const last = status.lastDriftCheck;
  if (
    last?.outcome === 'Failed' &&
    (drift === undefined || completion(last) > Date.parse(drift.checkTime))
  ) {
    const next = status.nextDriftCheckTime
      ? `; the next check starts at ${status.nextDriftCheckTime}`
      : '';
    return unknown(
      Reason.DriftCheckFailed,
      `drift check ${last.jobName} (attempt ${last.attempt}) failed: ${last.error?.message ?? 'unknown error'}${next}`,
    );
  }
  if (drift === undefined)
    return unknown(Reason.AwaitingFirstRun, 'no drift check has finished yet');
  const tolerance = policy?.drift.tolerance.records ?? 0;
  const counts = `${drift.missing} missing, ${drift.unexpected} unexpected, ${drift.mismatched} mismatched`;
  const repaired = drift.repaired ? `; ${drift.repaired} repaired` : '';
  return drift.total > tolerance
    ? {
        type: ConditionType.Drifted,
        status: 'True',
        reason: Reason.DriftDetected,
        message: `the drift check at ${drift.checkTime} found ${counts} (tolerance ${tolerance})${repaired}; see status.drift.samples`,
      }
    : {
        type: ConditionType.Drifted,
        status: 'False',
        reason: Reason.InSync,
        message: `the drift check at ${drift.checkTime} found ${counts}, within tolerance ${tolerance}${repaired}`,
      };
}

function degradedCondition({ status, policy }: Facts): ConditionChange {
  const count = status.quarantine?.count ?? 0;
  const max = policy?.quarantine.maxRecords ?? Number.POSITIVE_INFINITY;
  if (count > max) {
    return {
      type: ConditionType.Degraded,
      status: 'True',
      reason: Reason.QuarantineExceeded,
      message: `the last sync quarantined ${count} records, more than quarantine.maxRecords (${max}); see status.quarantine.samples`,
    };
  }
  return {
    type: ConditionType.Degraded,
    status: 'False',
    reason: Reason.Succeeded,
    message: `${count} records quarantined by the last sync, within quarantine.maxRecords`,
  };
}

function deprecatedCondition({ status }: Facts): ConditionChange {
  const deprecation = status.deprecation;
  return deprecation === undefined
    ? {
        type: ConditionType.Deprecated,
        status: 'False',
        reason: Reason.DeprecationAnnounced,
        message: 'the provider announced no deprecation for what this Integration calls',
      }
    : {
        type: ConditionType.Deprecated,
        status: 'True',
        reason: Reason.DeprecationAnnounced,
        message: `${deprecation.message}${deprecation.sunset ? ` (sunset ${deprecation.sunset})` : ''}`,
      };
}

/**
 * Ready means the data is flowing; False carries the most important problem. A failed attempt
 * that is retried while the data is still fresh keeps Ready=True beside Synced=False (the
 * Crossplane split): a blip must not page; Stale will, if the retries do not catch up.
 */
function readyCondition(
  input: Facts,
  synced: ConditionChange,
  stale: ConditionChange,
  drifted: ConditionChange,
  degraded: ConditionChange,
): ConditionChange {
  if (input.stalled) return notReady(input.stalled.reason, input.stalled.message);
  const { progress } = input;
  if (synced.status === 'Unknown')
    return notReady(progress?.reason ?? synced.reason, progress?.message ?? synced.message);
  const fresh = stale.status !== 'True' && input.status.lastSuccessfulSyncTime !== undefined;
  const next = progress ? `; ${progress.message}` : '';
  if (synced.status === 'False' && !fresh)
    return notReady(synced.reason, `${synced.message}${next}`);
  for (const problem of [stale, drifted, degraded]) {
    if (problem.status === 'True') return notReady(problem.reason, problem.message);
  }
  if (synced.status === 'False') {
    return {
      type: ConditionType.Ready,
      status: 'True',
      reason: progress?.reason ?? Reason.RetryScheduled,
      message: `data is fresh (last successful sync at ${input.status.lastSuccessfulSyncTime ?? ''}) but the last ${synced.message}${next}`,
    };
  }
  return {
    type: ConditionType.Ready,
    status: 'True',
    reason: synced.reason,
    message: synced.message,
  };
}
