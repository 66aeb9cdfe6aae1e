/**
 * The status fields a plan writes besides conditions: the recorded runs, the schedule
 * bookkeeping of the decisions in force, the active run and a pending retry; and the progress
 * cause Reconciling reports. Pure.
 */
import type { IntegrationStatus, RunRecord } from '../../api/index.ts';
import { rfc3339 } from '../../lib/time.ts';
import type { ProgressCause, StallCause } from './causes.ts';
import { quarantineAcknowledgement } from './quarantine.ts';
import { volumeAcknowledgement } from './volume.ts';
import type { Applied, Decisions, RunStart } from './plan.ts';
import type { ObservedRun } from './runs.ts';
import { webhookStatus } from './webhook.ts';

/** The status of a plan, conditions excepted (summary.ts adds them). */
export function composeStatus(d: Decisions, applied: Applied): IntegrationStatus {
  const { integration, now } = d.input;
  const previous = integration.status ?? {};
  const status: IntegrationStatus = {
    ...previous,
    ...d.recorded.status,
    observedGeneration: integration.metadata.generation ?? 0,
    ...(d.policy ? { effectivePolicy: d.policy } : {}),
    ...syncFields(applied.sync, previous),
    ...driftFields(applied.drift),
  };
  const webhook = composeWebhook(d);
  if (webhook === undefined) delete status.webhook;
  else status.webhook = webhook;
  const annotations = integration.metadata.annotations ?? {};
  Object.assign(status, volumeAcknowledgement(annotations, status));
  Object.assign(status, quarantineAcknowledgement(annotations, status));
  setActiveRun(status, applied.start, d.sync.active ?? d.driftActive, now);
  // A retry is pending only while nothing starts: a starting drift check takes its place.
  if (applied.sync?.kind === 'retry' && !applied.start) status.retry = applied.sync.retry;
  else delete status.retry;
  const probe = applied.sync?.kind === 'stalled' ? probeOf(applied.sync.cause) : undefined;
  if (probe !== undefined) status.nextProbeTime = probe;
  else delete status.nextProbeTime;
  if (applied.sync?.kind === 'start' && applied.sync.handledRequest !== undefined) {
    status.lastHandledSyncRequest = applied.sync.handledRequest;
  }
  if (applied.sync?.kind === 'start' && applied.sync.handledResync !== undefined) {
    status.lastHandledResyncRequest = applied.sync.handledResync;
  }
  return status;
}

/** What is in progress, for Reconciling: a start, a wait, a run, a retry, or the first run. */
export function progressCause(
  d: Decisions,
  applied: Applied,
  lastSync: RunRecord | undefined,
  stalled: boolean,
): ProgressCause | undefined {
  const start = applied.start?.kind === 'sync' ? applied.start : undefined;
  if (start) return { kind: 'RunStarting', jobName: start.jobName, attempt: start.attempt };
  if (applied.sync?.kind === 'wait') {
    const { jobName, kind } = applied.sync.active;
    return { kind: 'RunWaiting', activeJob: jobName, activeKind: kind };
  }
  const active = d.sync.active;
  if (active) {
    return {
      kind: 'RunActive',
      jobName: active.jobName,
      attempt: active.attempt,
      waiting: active.waiting,
    };
  }
  if (applied.sync?.kind === 'retry') return { kind: 'RetryScheduled', ...applied.sync.retry };
  if (!lastSync && !stalled) return { kind: 'AwaitingFirstRun' };
  return undefined;
}

function probeOf(cause: StallCause): string | undefined {
  return cause.kind === 'NotRetryable' || cause.kind === 'RetriesExhausted'
    ? cause.probeAt
    : undefined;
}

function syncFields(
  sync: Applied['sync'],
  previous: IntegrationStatus,
): Partial<IntegrationStatus> {
  if (!sync) return {};
  const missedRuns = (previous.missedRuns ?? 0) + sync.missed;
  return {
    nextSyncTime: rfc3339(sync.nextSyncTime),
    ...(sync.lastScheduled ? { lastScheduledTime: rfc3339(sync.lastScheduled) } : {}),
    ...(missedRuns > 0 ? { missedRuns } : {}),
  };
}

function driftFields(drift: Applied['drift']): Partial<IntegrationStatus> {
  if (!drift) return {};
  if (drift.kind === 'disabled') return { nextDriftCheckTime: undefined };
  return {
    nextDriftCheckTime: rfc3339(drift.next),
    ...(drift.lastScheduled ? { lastScheduledDriftCheckTime: rfc3339(drift.lastScheduled) } : {}),
    ...(drift.kind === 'start' && drift.handledRequest !== undefined
      ? { lastHandledDriftCheckRequest: drift.handledRequest }
      : {}),
  };
}

function setActiveRun(
  status: IntegrationStatus,
  start: RunStart | undefined,
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
    const kept =
      status.activeRun?.jobName === active.jobName ? status.activeRun.startTime : undefined;
    status.activeRun = {
      jobName: active.jobName,
      kind: active.kind,
      attempt: active.attempt,
      dueTime: rfc3339(active.dueTime),
      startTime: kept || rfc3339(active.createdAt),
    };
  } else {
    delete status.activeRun;
  }
}

/** status.webhook with spec.webhook: the intake's figures and the new syncs' gap checks. */
function composeWebhook(d: Decisions): IntegrationStatus['webhook'] {
  const { integration, now, intake } = d.input;
  if (integration.spec.webhook === undefined) return undefined;
  const finished = d.recorded.finished
    .filter((run) => run.kind === 'sync')
    .map((run) => ({ completionTime: run.record?.completionTime, result: run.result }));
  return webhookStatus({
    namespace: integration.metadata.namespace,
    name: integration.metadata.name,
    previous: integration.status?.webhook,
    view: intake ?? { observation: undefined, problem: 'no intake poll yet' },
    finished,
    now,
  });
}
