/**
 * The volume guard: an empty pass, or a pass far from what recent passes read, is how a source
 * fails quietly (a response whose shape changed to an empty list, a filter that matches nothing,
 * a bulk import). The last successful pass is compared with the median of the `volume.window`
 * passes before it; VolumeAnomaly stays True until a pass is back in range or a human accepts
 * the new volume with the `tributary.dev/volume-acknowledged-at` annotation, after which only
 * passes from the acknowledged one on are the baseline. Pure.
 */
import {
  ConditionType,
  Reason,
  VOLUME_ACKNOWLEDGED_ANNOTATION,
  type EffectivePolicy,
  type IntegrationStatus,
  type RunRecord,
} from '../../api/index.ts';
import type { ConditionChange } from '../plan/conditions.ts';
import { pendingRequest } from '../plan/requests.ts';
import { completion } from './record.ts';

/** What the guard reads: the policy, and the passes status keeps. */
export interface VolumeFacts {
  /** volume in the policy in force; undefined when the policy could not be resolved. */
  policy: EffectivePolicy['volume'] | undefined;
  /** The status being written (history, lastSync, the acknowledged baseline). */
  status: Pick<IntegrationStatus, 'history' | 'lastSync' | 'volumeBaselineSince'>;
}

/** The VolumeAnomaly condition of the last successful pass. */
export function volumeCondition({ policy, status }: VolumeFacts): ConditionChange {
  const unknown = (message: string): ConditionChange =>
    condition('Unknown', Reason.VolumeUnknown, message);
  if (policy === undefined) return unknown('the policy could not be resolved');
  if (policy.mode === 'Off') return unknown('volume.mode is Off: pass volumes are not checked');
  const [latest, ...earlier] = passes(status);
  if (latest === undefined) return unknown('no sync has succeeded yet');
  const read = latest.stats?.read ?? 0;
  const since = status.volumeBaselineSince;
  if (since !== undefined && completion(latest) <= Date.parse(since)) {
    return condition(
      'False',
      Reason.VolumeAcknowledged,
      `the volume of ${latest.jobName} (${read} records) was acknowledged as the new baseline`,
    );
  }
  const window = earlier.slice(0, policy.window);
  if (window.length === 0) return unknown('no earlier successful pass to compare with yet');
  const reads = window.map((pass) => pass.stats?.read ?? 0);
  const median = medianOf(reads);
  const figures = `${latest.jobName} read ${read} records; the ${window.length} passes before it read a median of ${median}`;
  const acknowledge = `; if this volume is expected, annotate the Integration ${VOLUME_ACKNOWLEDGED_ANNOTATION}="$(date +%s)" to accept it`;
  if (read === 0 && Math.max(...reads) > 0) {
    return condition(
      'True',
      Reason.VolumeOutOfRange,
      `${figures}: an empty pass after non-empty ones${acknowledge}`,
    );
  }
  const low = read < policy.minRatio * median;
  const high = read > policy.maxRatio * median;
  if (median > 0 && (low || high)) {
    const bounds = `outside volume.minRatio ${policy.minRatio} – maxRatio ${policy.maxRatio}`;
    return condition('True', Reason.VolumeOutOfRange, `${figures}: ${bounds}${acknowledge}`);
  }
  return condition('False', Reason.VolumeInRange, figures);
}

/**
 * The status fields an acknowledgement sets: a new annotation value makes the last successful
 * pass the start of the baseline, and is echoed so it is handled once.
 */
export function volumeAcknowledgement(
  annotations: Readonly<Record<string, string>>,
  status: Pick<IntegrationStatus, 'history' | 'lastSync' | 'lastHandledVolumeAcknowledgement'>,
): Pick<IntegrationStatus, 'volumeBaselineSince' | 'lastHandledVolumeAcknowledgement'> {
  const value = pendingRequest(
    annotations,
    VOLUME_ACKNOWLEDGED_ANNOTATION,
    status.lastHandledVolumeAcknowledgement,
  );
  if (value === undefined) return {};
  const latest = passes(status)[0];
  return {
    lastHandledVolumeAcknowledgement: value,
    ...(latest?.completionTime ? { volumeBaselineSince: latest.completionTime } : {}),
  };
}

/** Successful sync passes with counts, newest first, the baseline's start and later only. */
function passes(
  status: Pick<IntegrationStatus, 'history' | 'lastSync' | 'volumeBaselineSince'>,
): RunRecord[] {
  const since = status.volumeBaselineSince ? Date.parse(status.volumeBaselineSince) : -Infinity;
  const byJob = new Map<string, RunRecord>();
  for (const record of [...(status.history ?? []), ...(status.lastSync ? [status.lastSync] : [])]) {
    byJob.set(record.jobName, record);
  }
  return [...byJob.values()]
    .filter((r) => r.kind === 'sync' && r.outcome !== 'Failed' && r.stats !== undefined)
    .filter((r) => completion(r) >= since)
    .sort((a, b) => completion(b) - completion(a));
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function condition(
  status: ConditionChange['status'],
  reason: Reason,
  message: string,
): ConditionChange {
  return { type: ConditionType.VolumeAnomaly, status, reason, message };
}
