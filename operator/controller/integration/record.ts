/**
 * Finished runs into status: the runs that finished since the last status write become history
 * records, the last sync's outcome, checkpoint, quarantine and drift counts; Jobs beyond the
 * history limits are pruned. Pure.
 */
import type { EffectivePolicy, IntegrationStatus, RunKind, RunRecord } from '../../api/index.ts';
import { rfc3339 } from '../../lib/time.ts';
import { mergeQuarantine } from './quarantine.ts';
import type { ObservedRun } from './runs.ts';

/** Finished runs of each kind (sync, drift-check) kept in status.history. */
export const HISTORY_CAP = 10;

/** What recording finished runs changes in status, and which runs are new. */
export interface Recorded {
  /** The status fields the new records set; a field absent here keeps its previous value. */
  status: Pick<
    IntegrationStatus,
    | 'history'
    | 'lastSync'
    | 'lastDriftCheck'
    | 'lastSuccessfulSyncTime'
    | 'checkpoint'
    | 'quarantine'
    | 'schemaChanges'
    | 'deprecation'
    | 'drift'
  >;
  /** Runs that finished since the last status write, newest first; each has a record. */
  finished: ObservedRun[];
}

/** Records runs that finished since the last status write, newest first. */
export function recordRuns(previous: IntegrationStatus, runs: readonly ObservedRun[]): Recorded {
  const history = previous.history ?? [];
  const known = new Set(history.map((r) => r.jobName));
  for (const last of [previous.lastSync, previous.lastDriftCheck])
    if (last) known.add(last.jobName);
  const finished = runs
    .filter((run) => run.phase === 'Finished' && run.record && !known.has(run.jobName))
    .filter((run) => completion(run.record) > oldestKept(history, run.kind))
    .sort((a, b) => completion(b.record) - completion(a.record));
  const status: Recorded['status'] = {
    history: capPerKind([...finished.map((run) => run.record as RunRecord), ...history]),
  };
  const newestSync = finished.find((run) => run.kind === 'sync');
  if (newestSync?.record && completion(newestSync.record) >= completion(previous.lastSync)) {
    Object.assign(status, syncOutcome(newestSync, previous));
  }
  const quarantine = heldQuarantine(previous, finished);
  if (quarantine !== undefined) status.quarantine = quarantine;
  const newestCheck = finished.find((run) => run.kind === 'drift-check');
  if (
    newestCheck?.record &&
    completion(newestCheck.record) >= completion(previous.lastDriftCheck)
  ) {
    status.lastDriftCheck = newestCheck.record;
    if (newestCheck.result?.drift) status.drift = driftStatus(newestCheck);
  }
  return { status, finished };
}

/**
 * The completion time below which a finished run of `kind` is not new: Jobs kept longer than
 * HISTORY_CAP records of their kind fell out of history.
 */
function oldestKept(history: readonly RunRecord[], kind: RunKind): number {
  const ofKind = history.filter((record) => record.kind === kind);
  return ofKind.length >= HISTORY_CAP ? completion(ofKind.at(-1)) : -Infinity;
}

/** Newest first, at most HISTORY_CAP of each kind: drift checks never push syncs out. */
function capPerKind(records: readonly RunRecord[]): RunRecord[] {
  const sorted = [...records].sort((a, b) => completion(b) - completion(a));
  const seen = new Map<RunKind, number>();
  return sorted.filter((record) => {
    const count = (seen.get(record.kind) ?? 0) + 1;
    seen.set(record.kind, count);
    return count <= HISTORY_CAP;
  });
}

/** What a finished sync changes in status. */
function syncOutcome(run: ObservedRun, previous: IntegrationStatus): Recorded['status'] {
  const record = run.record as RunRecord;
  const result = run.result;
  const succeeded = record.outcome !== 'Failed';
  const out: Recorded['status'] = { lastSync: record };
  if (succeeded && record.completionTime) out.lastSuccessfulSyncTime = record.completionTime;
  // A failed run's result carries its last committed checkpoint: the next attempt resumes there.
  if (result?.checkpoint !== undefined) {
    out.checkpoint = {
      cursor: result.checkpoint,
      time: record.completionTime ?? record.startTime ?? '',
    };
  }
  if (result) {
    out.schemaChanges = result.schemaChanges;
    out.deprecation = result.deprecation ?? (succeeded ? undefined : previous.deprecation);
  }
  return out;
}

/**
 * The held quarantine after every newly finished sync with a result, oldest first (a failed
 * attempt's interim result counts too: what it released was written); undefined when none.
 */
function heldQuarantine(
  previous: IntegrationStatus,
  finished: readonly ObservedRun[],
): IntegrationStatus['quarantine'] {
  const syncs = finished.filter((run) => run.kind === 'sync' && run.result).reverse();
  if (syncs.length === 0) return undefined;
  return syncs.reduce(
    (held, run) =>
      mergeQuarantine(
        held,
        run.result?.quarantine,
        run.record?.completionTime ?? rfc3339(run.createdAt),
      ),
    previous.quarantine,
  );
}

/** status.drift from a finished drift check's result. */
function driftStatus(run: ObservedRun): NonNullable<IntegrationStatus['drift']> {
  const drift = run.result?.drift ?? { missing: 0, unexpected: 0, mismatched: 0 };
  return {
    checkTime: run.record?.completionTime ?? rfc3339(run.createdAt),
    missing: drift.missing,
    unexpected: drift.unexpected,
    mismatched: drift.mismatched,
    total: drift.missing + drift.unexpected + drift.mismatched,
    ...(drift.repaired !== undefined ? { repaired: drift.repaired } : {}),
    ...(drift.samples ? { samples: drift.samples } : {}),
  };
}

/**
 * Finished Jobs beyond the history limits, oldest first out; `keep` is never pruned. Sync Jobs
 * and drift-check Jobs have budgets of their own (the same numbers, counted apart), so frequent
 * checks never prune the failed sync an SRE is looking for.
 */
export function pruneJobs(
  runs: readonly ObservedRun[],
  policy: EffectivePolicy,
  keep?: string,
): string[] {
  const finished = runs
    .filter((run) => run.phase === 'Finished' && run.jobName !== keep)
    .sort((a, b) => completion(b.record) - completion(a.record));
  return (['sync', 'drift-check'] as const).flatMap((kind) => {
    const ofKind = finished.filter((run) => run.kind === kind);
    const succeeded = ofKind.filter((run) => run.record?.outcome !== 'Failed');
    const failed = ofKind.filter((run) => run.record?.outcome === 'Failed');
    return [
      ...succeeded.slice(policy.history.successfulRuns),
      ...failed.slice(policy.history.failedRuns),
    ].map((run) => run.jobName);
  });
}

/** Completion time of a record in epoch ms; 0 when unknown (sorts oldest). */
export function completion(record: RunRecord | undefined): number {
  return record?.completionTime ? Date.parse(record.completionTime) : 0;
}
