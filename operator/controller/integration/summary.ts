/**
 * The conditions of an Integration, computed from what the plan decided and observed. Pure.
 * Polarity follows kstatus: Ready is normal-true; Reconciling and Stalled are present only while
 * true; the other abnormal-true conditions are always present so dashboards see False too.
 */
import {
  ConditionType,
  parseDuration,
  Reason,
  type Condition,
  type EffectivePolicy,
  type IntegrationStatus,
} from '../../api/index.ts';
import type { Blocked } from './decide.ts';
import {
  removeCondition,
  setCondition,
  type ConditionChange,
  type ConditionContext,
} from '../plan/conditions.ts';

/** What the conditions are computed from. */
export interface SummaryInput {
  previous: readonly Condition[] | undefined;
  context: ConditionContext;
  createdAt: Date;
  suspended: boolean;
  policy: EffectivePolicy | undefined;
  /** A problem that needs a human: invalid spec, missing policy or Secret, auth, exhausted. */
  stalled: Blocked | undefined;
  /** Work in progress: a running attempt, a pending retry, a due run waiting. */
  reconciling: Blocked | undefined;
  status: Pick<
    IntegrationStatus,
    'lastSync' | 'lastSuccessfulSyncTime' | 'quarantine' | 'deprecation' | 'drift'
  >;
}

/** The conditions, and when Stale will flip if nothing else happens first. */
export interface Summary {
  conditions: Condition[];
  staleAt: Date | undefined;
}

/** Computes every condition of an Integration. */
export function summarize(input: SummaryInput): Summary {
  const { context } = input;
  const set = (conditions: Condition[], change: ConditionChange) =>
    setCondition(conditions, change, context);
  let conditions = [...(input.previous ?? [])];
  conditions = presentWhileTrue(conditions, ConditionType.Stalled, input.stalled, context);
  conditions = presentWhileTrue(conditions, ConditionType.Reconciling, reconciling(input), context);

  const synced = syncedCondition(input);
  const { stale, staleAt } = staleCondition(input);
  const degraded = degradedCondition(input);
  const drifted = driftedCondition(input);
  conditions = set(conditions, synced);
  conditions = set(conditions, drifted);
  conditions = set(conditions, stale);
  conditions = set(conditions, degraded);
  conditions = set(conditions, deprecatedCondition(input));
  conditions = set(conditions, {
    type: ConditionType.Suspended,
    status: input.suspended ? 'True' : 'False',
    reason: Reason.Suspended,
    message: input.suspended
      ? 'spec.suspend is true: no new runs start; set it to false to resume'
      : 'runs start on schedule',
  });
  conditions = set(conditions, readyCondition(input, synced, stale, drifted, degraded));
  return { conditions, staleAt };
}

/**
 * Reconciling, as kstatus reads it (InProgress): work the operator will finish by itself. Not
 * while Stalled (a human must act first), and while suspended only for a run still going.
 */
function reconciling({ stalled, reconciling, suspended }: SummaryInput): Blocked | undefined {
  if (stalled !== undefined) return undefined;
  if (suspended && reconciling?.reason !== Reason.Progressing) return undefined;
  return reconciling;
}

function presentWhileTrue(
  conditions: Condition[],
  type: ConditionChange['type'],
  problem: Blocked | undefined,
  context: ConditionContext,
): Condition[] {
  if (problem === undefined) return removeCondition(conditions, type);
  return setCondition(
    conditions,
    { type, status: 'True', reason: problem.reason, message: problem.message },
    context,
  );
}

function syncedCondition({ status }: SummaryInput): ConditionChange {
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
      reason: (last.reason as Reason | undefined) ?? Reason.SyncFailed,
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

function staleCondition(input: SummaryInput): {
  stale: ConditionChange;
  staleAt: Date | undefined;
} {
  const maxAge = parseDuration(input.policy?.freshness.maxAge ?? '');
  const since = input.status.lastSuccessfulSyncTime;
  const from = since === undefined ? input.createdAt : new Date(since);
  const staleAt = maxAge === undefined ? undefined : new Date(from.getTime() + maxAge);
  const isStale = staleAt !== undefined && staleAt.getTime() <= input.context.now.getTime();
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

function driftedCondition({ status, policy }: SummaryInput): ConditionChange {
  const drift = status.drift;
  if (drift === undefined) {
    return {
      type: ConditionType.Drifted,
      status: 'Unknown',
      reason: Reason.AwaitingFirstRun,
      message: 'no drift check has finished yet',
    };
  }
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

function degradedCondition({ status, policy }: SummaryInput): ConditionChange {
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

function deprecatedCondition({ status }: SummaryInput): ConditionChange {
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

/** Ready summarizes, most important problem first. */
function readyCondition(
  input: SummaryInput,
  synced: ConditionChange,
  stale: ConditionChange,
  drifted: ConditionChange,
  degraded: ConditionChange,
): ConditionChange {
  const notReady = (reason: Reason, message: string): ConditionChange => ({
    type: ConditionType.Ready,
    status: 'False',
    reason,
    message,
  });
  if (input.stalled) return notReady(input.stalled.reason, input.stalled.message);
  if (synced.status !== 'True') {
    const progress = input.reconciling;
    if (progress && synced.status === 'Unknown') return notReady(progress.reason, progress.message);
    const next = progress ? `; ${progress.message}` : '';
    return notReady(synced.reason, `${synced.message}${next}`);
  }
  if (stale.status === 'True') return notReady(stale.reason, stale.message);
  if (drifted.status === 'True') return notReady(drifted.reason, drifted.message);
  if (degraded.status === 'True') return notReady(degraded.reason, degraded.message);
  return {
    type: ConditionType.Ready,
    status: 'True',
    reason: synced.reason,
    message: synced.message,
  };
}
