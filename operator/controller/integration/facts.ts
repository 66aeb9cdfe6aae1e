/**
 * The facts the pure decisions take, read off the Integration, its previous status and its
 * observed runs: which sync is active, the last scheduled due time, the last attempt of it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { EffectivePolicy, IntegrationStatus, RunKind, RunRecord } from '../../api/index.ts';
import { rfc3339 } from '../../lib/time.ts';
import type { DecisionInput } from './decide.ts';
import type { DriftInput } from './drift.ts';
import type { PlanInput } from './plan.ts';
import type { Recorded } from './record.ts';
import type { ObservedRun } from './runs.ts';

/** Where the sync schedule stands, as observed. */
export interface SyncState {
  /** The newest active sync run, if any. */
  active: ObservedRun | undefined;
  /** Due time of the last started (or skipped) sync run: Jobs and status.lastScheduledTime. */
  lastScheduled: Date | undefined;
  /** The highest finished attempt of the `lastScheduled` due run, if any. */
  lastAttempt: RunRecord | undefined;
  /** The Secrets' versions `lastAttempt` started with, while its Job is kept. */
  lastCredentials: string | undefined;
}

/** The newest active run of a kind. */
export function activeRun(runs: readonly ObservedRun[], kind: RunKind): ObservedRun | undefined {
  return runs
    .filter((run) => run.kind === kind && run.phase === 'Active')
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
}

/** Reads the sync schedule's state from status, the new records and the observed runs. */
export function syncState(
  previous: IntegrationStatus,
  recorded: Recorded,
  runs: readonly ObservedRun[],
): SyncState {
  const syncRuns = runs.filter((run) => run.kind === 'sync');
  const lastScheduled = latest([
    ...syncRuns.map((run) => run.dueTime.getTime()),
    ...(previous.lastScheduledTime ? [Date.parse(previous.lastScheduledTime)] : []),
  ]);
  const lastAttempt = lastAttemptOf(syncRuns, recorded, 'sync', lastScheduled);
  const lastCredentials = syncRuns.find((run) => run.jobName === lastAttempt?.jobName)?.credentials;
  return { active: activeRun(runs, 'sync'), lastScheduled, lastAttempt, lastCredentials };
}

/** The input of the sync decision; `checking` is the active drift check, if any. */
export function decisionInput(
  input: PlanInput,
  policy: EffectivePolicy,
  sync: SyncState,
  checking: ObservedRun | undefined,
): DecisionInput {
  const { metadata, spec } = input.integration;
  const previous = input.integration.status ?? {};
  const { credentials } = input;
  return {
    uid: metadata.uid,
    createdAt: new Date(metadata.creationTimestamp),
    generationChanged: (metadata.generation ?? 0) !== (previous.observedGeneration ?? 0),
    policyChanged:
      previous.effectivePolicy !== undefined && !samePolicy(previous.effectivePolicy, policy),
    credentialsChanged:
      credentials !== undefined &&
      sync.lastCredentials !== undefined &&
      credentials !== sync.lastCredentials,
    suspended: spec.suspend === true,
    annotations: metadata.annotations ?? {},
    policy,
    lastScheduled: sync.lastScheduled,
    lastAttempt: sync.lastAttempt,
    active: sync.active,
    checking,
    lastHandledSyncRequest: previous.lastHandledSyncRequest,
    lastHandledResyncRequest: previous.lastHandledResyncRequest,
    persistedRetry: previous.retry,
    now: input.now,
    random: input.random,
  };
}

/** The input of the drift decision; `busy` when any run is active or about to start. */
export function driftInput(
  input: PlanInput,
  policy: EffectivePolicy,
  recorded: Recorded,
  busy: boolean,
): DriftInput {
  const { metadata, spec } = input.integration;
  const previous = input.integration.status ?? {};
  const checks = input.runs.filter((run) => run.kind === 'drift-check');
  const lastScheduled = latest([
    ...checks.map((run) => run.dueTime.getTime()),
    ...(previous.lastScheduledDriftCheckTime
      ? [Date.parse(previous.lastScheduledDriftCheckTime)]
      : []),
  ]);
  return {
    uid: metadata.uid,
    createdAt: new Date(metadata.creationTimestamp),
    suspended: spec.suspend === true,
    // A custom connector implements drift checks itself; the built-in one needs the list.
    configured: spec.connector !== undefined || spec.destination?.list !== undefined,
    annotations: metadata.annotations ?? {},
    policy,
    lastScheduled,
    lastAttempt: lastAttemptOf(checks, recorded, 'drift-check', lastScheduled),
    busy,
    lastHandledRequest: previous.lastHandledDriftCheckRequest,
    now: input.now,
  };
}

/** The highest finished attempt of a kind's run due at `dueTime`: observed Jobs, then history. */
function lastAttemptOf(
  runs: readonly ObservedRun[],
  recorded: Recorded,
  kind: RunKind,
  dueTime: Date | undefined,
): RunRecord | undefined {
  const due = dueTime && rfc3339(dueTime);
  const attempts = [
    ...runs.flatMap((run) => (run.record ? [run.record] : [])),
    ...(recorded.status.history ?? []),
  ].filter((record) => record.kind === kind && record.dueTime === due);
  return attempts.sort((a, b) => b.attempt - a.attempt)[0];
}

/** Policies compare as stored: JSON drops the keys resolvePolicy leaves undefined. */
function samePolicy(stored: EffectivePolicy, resolved: EffectivePolicy): boolean {
  return isDeepStrictEqual(
    JSON.parse(JSON.stringify(stored)),
    JSON.parse(JSON.stringify(resolved)),
  );
}

function latest(times: readonly number[]): Date | undefined {
  return times.length > 0 ? new Date(Math.max(...times)) : undefined;
}
