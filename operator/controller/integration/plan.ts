/**
 * The Integration reconciler's plan: a pure function of (integration, policy, observed runs,
 * now) that returns the status to write, the Job to start or replace, the Jobs to prune, the
 * Events to record and when to look again.
 */
import {
  Reason,
  type EffectivePolicy,
  type Integration,
  type IntegrationStatus,
  type RunKind,
  type RunRecord,
} from '../../api/index.ts';
import { jobName } from '../plan/job-name.ts';
import { rfc3339 } from '../../lib/time.ts';
import { delayUntil } from '../plan/schedule.ts';
import { decide, type Blocked, type Decision } from './decide.ts';
import { decideDrift, type DriftDecision, type DriftInput } from './drift.ts';
import type { ObservedRun } from './runs.ts';
import { summarize } from './summary.ts';

/** Finished runs kept in status.history. */
export const HISTORY_CAP = 10;
/** How often a missing Secret is looked for again: Secrets are not watched cluster-wide. */
export const SECRET_POLL_MS = 15_000;

/** An Integration as stored: validated, with the metadata the API server always sets. */
export type StoredIntegration = Integration & {
  metadata: Integration['metadata'] & { namespace: string; uid: string; creationTimestamp: string };
};

/** The facts a plan is made from. */
export interface PlanInput {
  integration: StoredIntegration;
  /** The resolved policy, or why there is none (PolicyNotFound, InvalidSpec). */
  policy: { ok: true; value: EffectivePolicy } | { ok: false; blocked: Blocked };
  /** Referenced Secrets that do not exist, as `namespace/name` messages. */
  missingSecrets: readonly string[];
  runs: readonly ObservedRun[];
  now: Date;
  random: () => number;
}

/** An Event to record on the Integration. */
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** What the reconciler does. */
export interface Plan {
  status: IntegrationStatus;
  start?: { jobName: string; kind: RunKind; dueTime: Date; attempt: number };
  replace?: string;
  prune: string[];
  events: PlannedEvent[];
  requeueAfterMs?: number;
  missed: number;
  /** Runs that finished since the last status write, newest first. */
  finished: RunRecord[];
}

/** Plans one reconcile of an Integration. */
export function planIntegration(input: PlanInput): Plan {
  const { integration, now } = input;
  const previous = integration.status ?? {};
  const recorded = recordRuns(previous, input.runs);
  const policy = input.policy.ok ? input.policy.value : undefined;
  const sync = syncState(previous, recorded, input.runs);
  const problem = blockingProblem(input);

  const decision: Decision | Blocked | undefined =
    problem || !policy ? undefined : decide(decisionInput(input, policy, sync, previous));
  const decided = decision && 'nextSyncTime' in decision ? decision : undefined;
  const stalled =
    problem ??
    (decision && !decided ? (decision as Blocked) : decided?.stalled) ??
    podProblem(sync.active);

  const syncStart = decided?.start && {
    jobName: jobName({ integration: integration.metadata.name, kind: 'sync', ...decided.start }),
    kind: 'sync' as const,
    dueTime: decided.start.dueTime,
    attempt: decided.start.attempt,
  };
  const driftActive = activeRun(input.runs, 'drift-check');
  const drift =
    policy && !stalled && !problem
      ? decideDrift(
          driftInput(
            input,
            policy,
            previous,
            syncStart !== undefined || sync.active !== undefined || driftActive !== undefined,
          ),
        )
      : undefined;
  const start =
    syncStart ?? (drift?.start && driftStart(integration.metadata.name, drift.start.dueTime));
  const lastSync = recorded.status.lastSync ?? previous.lastSync;
  const reconciling = progress(sync.active, syncStart, decided, lastSync, stalled);
  const status: IntegrationStatus = {
    ...previous,
    ...recorded.status,
    observedGeneration: integration.metadata.generation ?? 0,
    ...(policy ? { effectivePolicy: policy } : {}),
    ...timeFields(decided, previous),
    ...driftFields(drift),
  };
  setActiveRun(status, start, sync.active ?? driftActive, now);
  if (decided?.retry && !start) status.retry = decided.retry;
  else delete status.retry;
  if (decided?.handledRequest !== undefined) status.lastHandledSyncRequest = decided.handledRequest;

  const summary = summarize({
    previous: previous.conditions,
    context: { generation: integration.metadata.generation, now },
    createdAt: new Date(integration.metadata.creationTimestamp),
    suspended: integration.spec.suspend === true,
    policy,
    stalled,
    reconciling,
    status,
  });
  status.conditions = summary.conditions;

  return {
    status,
    ...(start ? { start } : {}),
    ...(syncStart && decided.replace ? { replace: decided.replace.jobName } : {}),
    prune: policy ? pruneJobs(input.runs, policy, start?.jobName) : [],
    events: events(
      previous,
      status,
      recorded.finished,
      start,
      start === syncStart ? decided?.start?.why : drift?.start?.why,
      decided?.missed ?? 0,
    ),
    ...requeue(
      [decided?.nextSyncTime, retryTime(status), summary.staleAt, drift?.next],
      input,
      now,
    ),
    missed: decided?.missed ?? 0,
    finished: recorded.finished.map((run) => run.record as RunRecord),
  };
}

function blockingProblem(input: PlanInput): Blocked | undefined {
  if (!input.policy.ok) return input.policy.blocked;
  if (input.missingSecrets.length > 0) {
    const list = input.missingSecrets.join(', ');
    return {
      reason: Reason.SecretNotFound,
      message: `Secret ${list} not found in namespace ${input.integration.metadata.namespace}: create it; runs resume on their own`,
    };
  }
  return undefined;
}

/** A pod that cannot start for a reason only a human can fix (a missing Secret key). */
function podProblem(active: ObservedRun | undefined): Blocked | undefined {
  if (active?.waiting?.reason !== 'CreateContainerConfigError') return undefined;
  return {
    reason: Reason.SecretNotFound,
    message: `run ${active.jobName} cannot start: ${active.waiting.message}`,
  };
}

interface Recorded {
  status: Pick<
    IntegrationStatus,
    | 'history'
    | 'lastSync'
    | 'lastSuccessfulSyncTime'
    | 'checkpoint'
    | 'quarantine'
    | 'schemaChanges'
    | 'deprecation'
    | 'drift'
  >;
  finished: ObservedRun[];
}

/** Records runs that finished since the last status write, newest first. */
function recordRuns(previous: IntegrationStatus, runs: readonly ObservedRun[]): Recorded {
  const history = previous.history ?? [];
  const known = new Set(history.map((r) => r.jobName));
  if (previous.lastSync) known.add(previous.lastSync.jobName);
  // Jobs kept longer than HISTORY_CAP records fell out of history: they are not new.
  const oldest = history.length >= HISTORY_CAP ? completion(history.at(-1)) : -Infinity;
  const finished = runs
    .filter((run) => run.phase === 'Finished' && run.record && !known.has(run.jobName))
    .filter((run) => completion(run.record) > oldest)
    .sort((a, b) => completion(b.record) - completion(a.record));
  const status: Recorded['status'] = {
    history: [...finished.map((run) => run.record as RunRecord), ...(previous.history ?? [])]
      .sort((a, b) => completion(b) - completion(a))
      .slice(0, HISTORY_CAP),
  };
  const newestSync = finished.find((run) => run.kind === 'sync');
  if (newestSync?.record && completion(newestSync.record) >= completion(previous.lastSync)) {
    Object.assign(status, syncOutcome(newestSync, previous));
  }
  const newestDrift = finished.find((run) => run.kind === 'drift-check' && run.result?.drift);
  if (newestDrift) status.drift = driftStatus(newestDrift);
  return { status, finished };
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
    out.quarantine = result.quarantine ?? { count: 0 };
    out.schemaChanges = result.schemaChanges;
    out.deprecation = result.deprecation ?? (succeeded ? undefined : previous.deprecation);
  }
  return out;
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

/** The newest active run of a kind. */
function activeRun(runs: readonly ObservedRun[], kind: RunKind): ObservedRun | undefined {
  return runs
    .filter((run) => run.kind === kind && run.phase === 'Active')
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
}

function driftInput(
  input: PlanInput,
  policy: EffectivePolicy,
  previous: IntegrationStatus,
  busy: boolean,
): DriftInput {
  const { metadata, spec } = input.integration;
  const dueTimes = [
    ...input.runs.filter((run) => run.kind === 'drift-check').map((run) => run.dueTime.getTime()),
    ...(previous.lastScheduledDriftCheckTime
      ? [Date.parse(previous.lastScheduledDriftCheckTime)]
      : []),
  ];
  return {
    uid: metadata.uid,
    createdAt: new Date(metadata.creationTimestamp),
    suspended: spec.suspend === true,
    annotations: metadata.annotations ?? {},
    policy,
    lastScheduled: dueTimes.length > 0 ? new Date(Math.max(...dueTimes)) : undefined,
    busy,
    lastHandledRequest: previous.lastHandledDriftCheckRequest,
    now: input.now,
  };
}

function driftStart(name: string, dueTime: Date): NonNullable<Plan['start']> {
  return {
    jobName: jobName({ integration: name, kind: 'drift-check', dueTime, attempt: 1 }),
    kind: 'drift-check',
    dueTime,
    attempt: 1,
  };
}

function driftFields(drift: DriftDecision | undefined): Partial<IntegrationStatus> {
  if (!drift) return {};
  return {
    ...(drift.next ? { nextDriftCheckTime: rfc3339(drift.next) } : {}),
    ...(drift.lastScheduled ? { lastScheduledDriftCheckTime: rfc3339(drift.lastScheduled) } : {}),
    ...(drift.handledRequest !== undefined
      ? { lastHandledDriftCheckRequest: drift.handledRequest }
      : {}),
  };
}

interface SyncState {
  active: ObservedRun | undefined;
  lastScheduled: Date | undefined;
  lastAttempt: RunRecord | undefined;
}

function syncState(
  previous: IntegrationStatus,
  recorded: Recorded,
  runs: readonly ObservedRun[],
): SyncState {
  const syncRuns = runs.filter((run) => run.kind === 'sync');
  const active = syncRuns
    .filter((run) => run.phase === 'Active')
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  const dueTimes = [
    ...syncRuns.map((run) => run.dueTime.getTime()),
    ...(previous.lastScheduledTime ? [Date.parse(previous.lastScheduledTime)] : []),
  ];
  const lastScheduled = dueTimes.length > 0 ? new Date(Math.max(...dueTimes)) : undefined;
  const due = lastScheduled && rfc3339(lastScheduled);
  const attempts = [
    ...syncRuns.flatMap((run) => (run.record ? [run.record] : [])),
    ...(recorded.status.history ?? []),
  ].filter((record) => record.kind === 'sync' && record.dueTime === due);
  const lastAttempt = attempts.sort((a, b) => b.attempt - a.attempt)[0];
  return { active, lastScheduled, lastAttempt };
}

function decisionInput(
  input: PlanInput,
  policy: EffectivePolicy,
  sync: SyncState,
  previous: IntegrationStatus,
) {
  const { metadata, spec } = input.integration;
  return {
    uid: metadata.uid,
    createdAt: new Date(metadata.creationTimestamp),
    generationChanged: (metadata.generation ?? 0) !== (previous.observedGeneration ?? 0),
    suspended: spec.suspend === true,
    annotations: metadata.annotations ?? {},
    policy,
    lastScheduled: sync.lastScheduled,
    lastAttempt: sync.lastAttempt,
    active: sync.active,
    lastHandledSyncRequest: previous.lastHandledSyncRequest,
    persistedRetry: previous.retry,
    now: input.now,
    random: input.random,
  };
}

function progress(
  active: ObservedRun | undefined,
  start: Plan['start'],
  decided: Decision | undefined,
  lastSync: RunRecord | undefined,
  stalled: Blocked | undefined,
): Blocked | undefined {
  if (start) {
    return {
      reason: Reason.Progressing,
      message: `sync attempt ${start.attempt} started (Job ${start.jobName})`,
    };
  }
  if (decided?.waiting) return decided.waiting;
  if (active) {
    const waiting = active.waiting
      ? `; pod waiting: ${active.waiting.reason} ${active.waiting.message}`
      : '';
    return {
      reason: Reason.Progressing,
      message: `sync attempt ${active.attempt} is running (Job ${active.jobName})${waiting}`,
    };
  }
  if (decided?.retry) {
    return {
      reason: Reason.RetryScheduled,
      message: `attempt ${decided.retry.attempt + 1} starts at ${decided.retry.nextAttemptTime}`,
    };
  }
  if (!lastSync && !stalled)
    return { reason: Reason.AwaitingFirstRun, message: 'waiting for the first sync' };
  return undefined;
}

function timeFields(decided: Decision | undefined, previous: IntegrationStatus) {
  if (!decided) return {};
  const missedRuns = (previous.missedRuns ?? 0) + decided.missed;
  return {
    ...(decided.nextSyncTime ? { nextSyncTime: rfc3339(decided.nextSyncTime) } : {}),
    ...(decided.lastScheduled ? { lastScheduledTime: rfc3339(decided.lastScheduled) } : {}),
    ...(missedRuns > 0 ? { missedRuns } : {}),
  };
}

function setActiveRun(
  status: IntegrationStatus,
  start: Plan['start'],
  active: ObservedRun | undefined,
  now: Date,
): void {
  if (start) {
    status.activeRun = {
      jobName: start.jobName,
      kind: start.kind,
      attempt: start.attempt,
      dueTime: rfc3339(start.dueTime),
      startTime: rfc3339(now),
    };
  } else if (active) {
    status.activeRun = {
      jobName: active.jobName,
      kind: active.kind,
      attempt: active.attempt,
      dueTime: rfc3339(active.dueTime),
      startTime:
        status.activeRun?.jobName === active.jobName && status.activeRun.startTime
          ? status.activeRun.startTime
          : rfc3339(active.createdAt),
    };
  } else {
    delete status.activeRun;
  }
}

/** Finished Jobs beyond the history limits, oldest first out. */
function pruneJobs(runs: readonly ObservedRun[], policy: EffectivePolicy, keep?: string): string[] {
  const finished = runs
    .filter((run) => run.phase === 'Finished' && run.jobName !== keep)
    .sort((a, b) => completion(b.record) - completion(a.record));
  const succeeded = finished.filter((run) => run.record?.outcome !== 'Failed');
  const failed = finished.filter((run) => run.record?.outcome === 'Failed');
  return [
    ...succeeded.slice(policy.history.successfulRuns),
    ...failed.slice(policy.history.failedRuns),
  ].map((run) => run.jobName);
}

function events(
  previous: IntegrationStatus,
  status: IntegrationStatus,
  finished: readonly ObservedRun[],
  start: Plan['start'],
  why: string | undefined,
  missed: number,
): PlannedEvent[] {
  const out: PlannedEvent[] = [];
  for (const run of [...finished].reverse()) {
    const record = run.record as RunRecord;
    const failed = record.outcome === 'Failed';
    out.push({
      type: failed ? 'Warning' : 'Normal',
      reason: failed ? (record.reason ?? Reason.SyncFailed) : `Run${record.outcome}`,
      message: failed
        ? `${run.kind} ${run.jobName} failed: ${record.error?.message ?? 'unknown error'}`
        : `${run.kind} ${run.jobName} ${record.outcome === 'Succeeded' ? 'succeeded' : 'partially succeeded'}`,
    });
  }
  if (missed > 0) {
    out.push({
      type: 'Warning',
      reason: Reason.MissedSchedule,
      message: `${missed} due sync run(s) skipped: they could not start before startingDeadline or were superseded`,
    });
  }
  if (start) {
    out.push({
      type: 'Normal',
      reason: 'RunStarted',
      message: `${start.kind} attempt ${start.attempt} started as Job ${start.jobName} (${why ?? 'Scheduled'})`,
    });
  }
  const before = previous.conditions?.find((c) => c.type === 'Ready');
  const after = status.conditions?.find((c) => c.type === 'Ready');
  if (after && (before?.status !== after.status || before.reason !== after.reason)) {
    // A first run in progress is not a problem: Warning Events are what alerts select on.
    const normal =
      after.status === 'True' ||
      after.reason === Reason.Progressing ||
      after.reason === Reason.AwaitingFirstRun;
    out.push({ type: normal ? 'Normal' : 'Warning', reason: after.reason, message: after.message });
  }
  return out;
}

function retryTime(status: IntegrationStatus): Date | undefined {
  return status.retry ? new Date(status.retry.nextAttemptTime) : undefined;
}

function requeue(times: (Date | undefined)[], input: PlanInput, now: Date) {
  const delays = times.flatMap((time) => (time ? [delayUntil(time, now)] : []));
  if (input.missingSecrets.length > 0) delays.push(SECRET_POLL_MS);
  const soonest = Math.min(...delays);
  return Number.isFinite(soonest) ? { requeueAfterMs: Math.max(soonest, 1000) } : {};
}

function completion(record: RunRecord | undefined): number {
  return record?.completionTime ? Date.parse(record.completionTime) : 0;
}
