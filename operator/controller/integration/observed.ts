/**
 * The conditions computed from what an Integration's status observed: Synced, Stale, Drifted,
 * Degraded, Deprecated, Suspended, VolumeAnomaly. One function each, pure; summary.ts puts them
 * together and derives Ready from them.
 */
import {
  ConditionType,
  isReason,
  parseDuration,
  QUARANTINE_ACKNOWLEDGED_ANNOTATION,
  Reason,
} from '../../api/index.ts';
import type { ConditionChange } from '../plan/conditions.ts';
import type { Explanation } from './causes.ts';
import { completion } from './record.ts';
import type { ObservedSummary } from './summary.ts';

/** The facts each condition is computed from. */
export interface Facts extends ObservedSummary {
  now: Date;
  stalled: Explanation | undefined;
  progress: Explanation | undefined;
}

export function suspendedCondition({ suspended }: Facts): ConditionChange {
  return {
    type: ConditionType.Suspended,
    status: suspended ? 'True' : 'False',
    reason: Reason.Suspended,
    message: suspended
      ? 'spec.suspend is true: no new runs start; set it to false to resume'
      : 'runs start on schedule',
  };
}

export function syncedCondition({ status }: Facts): ConditionChange {
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

export function staleCondition(input: Facts): {
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
export function driftedCondition({ status, policy, driftDisabled }: Facts): ConditionChange {
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

export function degradedCondition({ status, policy }: Facts): ConditionChange {
  const count = status.quarantine?.count ?? 0;
  const max = policy?.quarantine.maxRecords ?? Number.POSITIVE_INFINITY;
  if (count > max) {
    return {
      type: ConditionType.Degraded,
      status: 'True',
      reason: Reason.QuarantineExceeded,
      message: `${count} records held in quarantine, more than quarantine.maxRecords (${max}); see status.quarantine.samples; later syncs retry them, ${QUARANTINE_ACKNOWLEDGED_ANNOTATION} drops them`,
    };
  }
  return {
    type: ConditionType.Degraded,
    status: 'False',
    reason: Reason.Succeeded,
    message: `${count} records held in quarantine, within quarantine.maxRecords`,
  };
}

export function deprecatedCondition({ status }: Facts): ConditionChange {
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
