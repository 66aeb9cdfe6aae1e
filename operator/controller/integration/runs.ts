/**
 * What the Jobs of an Integration say about its runs: pure interpretation of observed Jobs and
 * their pods into run states and finished-run records. The result of a run is read from its
 * pod's termination message and validated; anything else is a failed attempt with a reason.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import {
  EXIT_NOT_RETRYABLE,
  parseRunResult,
  Reason,
  RunKind,
  type ResultProblem,
  type RunRecord,
  type RunResult,
} from '../../api/index.ts';
import { CONNECTOR_CONTAINER, JobAnnotation, JobLabel } from '../plan/job.ts';
import { rfc3339, toDate } from '../../lib/time.ts';
import { startProblem, type StartProblem } from './pod-start.ts';

/** One run of an Integration as observed through its Job and pod. */
export interface ObservedRun {
  jobName: string;
  kind: RunKind;
  attempt: number;
  dueTime: Date;
  createdAt: Date;
  /** Active until the Job has a Complete or Failed condition. */
  phase: 'Active' | 'Finished';
  /** For finished runs: the record kept in status, with the validated result. */
  record?: RunRecord;
  /** For finished runs: the validated result document, when the run wrote one. */
  result?: RunResult;
  /** Why the pod cannot start, e.g. a missing Secret key (CreateContainerConfigError). */
  waiting?: { reason: string; message: string };
  /** The referenced Secrets' versions when the attempt started (JobAnnotation.Credentials). */
  credentials?: string;
  /** An active run with a start problem: when it is ended unless the problem clears first. */
  endAt?: Date;
  /** A run ended by the operator (its pod could not start): its Job is deleted. */
  abandoned?: boolean;
}

/**
 * Reads a run from its Job and pods at `now`; undefined for a Job that is not a run Job. An
 * active run whose pod could not start for longer than the grace (pod-start.ts) reads as a
 * finished, failed attempt to be ended.
 */
export function observeRun(job: V1Job, pods: readonly V1Pod[], now: Date): ObservedRun | undefined {
  const kind = RunKind.safeParse(job.metadata?.labels?.[JobLabel.RunKind]);
  const dueTime = Date.parse(job.metadata?.annotations?.[JobAnnotation.DueTime] ?? '');
  const attempt = Number(job.metadata?.annotations?.[JobAnnotation.Attempt]);
  const jobName = job.metadata?.name;
  if (!kind.success || Number.isNaN(dueTime) || !Number.isInteger(attempt) || !jobName) {
    return undefined;
  }
  const run: ObservedRun = {
    jobName,
    kind: kind.data,
    attempt,
    dueTime: new Date(dueTime),
    createdAt: toDate(job.metadata?.creationTimestamp) ?? new Date(dueTime),
    phase: 'Active',
  };
  const credentials = job.metadata?.annotations?.[JobAnnotation.Credentials];
  if (credentials !== undefined) run.credentials = credentials;
  const pod = newestPod(pods);
  const finished = finishedCondition(job);
  if (finished === undefined) {
    const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason !== undefined && waiting.reason !== 'ContainerCreating') {
      run.waiting = { reason: waiting.reason, message: waiting.message ?? '' };
    }
    const problem = startProblem(job, pod, run.createdAt);
    if (problem === undefined) return run;
    if (problem.endAt.getTime() > now.getTime()) return { ...run, endAt: problem.endAt };
    return abandon(run, job, problem);
  }
  const { record, result } = finishedRecord(run, job, pod, finished);
  return { ...run, phase: 'Finished', record, ...(result ? { result } : {}) };
}

/** A run ended because its pod could not start: a failed attempt a human must fix. */
function abandon(run: ObservedRun, job: V1Job, problem: StartProblem): ObservedRun {
  const record: RunRecord = {
    jobName: run.jobName,
    kind: run.kind,
    attempt: run.attempt,
    dueTime: rfc3339(run.dueTime),
    startTime: rfc3339(toDate(job.status?.startTime) ?? run.createdAt),
    completionTime: rfc3339(problem.endAt),
    outcome: 'Failed',
    reason: problem.reason,
    error: { class: 'Configuration', message: problem.message.slice(0, 1024), retryable: false },
  };
  return { ...run, phase: 'Finished', record, abandoned: true };
}

interface FinishedCondition {
  type: 'Complete' | 'Failed';
  reason: string | undefined;
  message: string | undefined;
  time: Date | undefined;
}

function finishedCondition(job: V1Job): FinishedCondition | undefined {
  for (const condition of job.status?.conditions ?? []) {
    if (condition.status !== 'True') continue;
    if (condition.type === 'Complete' || condition.type === 'Failed') {
      return {
        type: condition.type,
        reason: condition.reason,
        message: condition.message,
        time: toDate(condition.lastTransitionTime) ?? toDate(job.status?.completionTime),
      };
    }
  }
  return undefined;
}

/** The record of a finished run: from its result when valid, else a failure explaining why. */
function finishedRecord(
  run: ObservedRun,
  job: V1Job,
  pod: V1Pod | undefined,
  finished: FinishedCondition,
): { record: RunRecord; result?: RunResult } {
  const base: RunRecord = {
    jobName: run.jobName,
    kind: run.kind,
    attempt: run.attempt,
    dueTime: rfc3339(run.dueTime),
    startTime: rfc3339(toDate(job.status?.startTime) ?? run.createdAt),
    ...(finished.time ? { completionTime: rfc3339(finished.time) } : {}),
    outcome: 'Failed',
  };
  const terminated = containerOf(pod)?.state?.terminated;
  const parsed = parseRunResult(terminated?.message);
  if (finished.type === 'Failed' && finished.reason === 'DeadlineExceeded') {
    // The interim result of a stopped run still carries its last committed checkpoint.
    const message = 'the run exceeded timeouts.run and was stopped';
    const interim = parsed.ok ? parsed.result : undefined;
    return {
      record: {
        ...base,
        reason: Reason.DeadlineExceeded,
        ...(interim?.stats ? { stats: interim.stats } : {}),
        error: { class: 'Timeout', message, retryable: true },
      },
      ...(interim ? { result: interim } : {}),
    };
  }
  if (parsed.ok) {
    const { result } = parsed;
    return {
      record: {
        ...base,
        outcome: result.outcome,
        ...(result.stats ? { stats: result.stats } : {}),
        ...(result.drift ? { drift: driftCounts(result.drift) } : {}),
        ...(result.error ? { error: result.error } : {}),
        ...(result.outcome === 'Failed' ? { reason: failureReason(result) } : {}),
      },
      result,
    };
  }
  const exitCode = terminated?.exitCode;
  const retryable = exitCode !== EXIT_NOT_RETRYABLE;
  const message = invalidResultMessage(parsed.problem, exitCode, finished.message);
  return {
    record: {
      ...base,
      // Exit 78 is the connector's own verdict (EX_CONFIG): a configuration problem, not retried.
      reason: retryable ? Reason.InvalidResult : Reason.ConfigurationError,
      error: { class: retryable ? 'Internal' : 'Configuration', message, retryable },
    },
  };
}

/** A drift check's counts as history keeps them (samples stay in status.drift). */
function driftCounts(drift: NonNullable<RunResult['drift']>): NonNullable<RunRecord['drift']> {
  const { missing, unexpected, mismatched, repaired } = drift;
  return { missing, unexpected, mismatched, ...(repaired === undefined ? {} : { repaired }) };
}

function failureReason(result: RunResult): Reason {
  switch (result.error?.class) {
    case 'Authentication':
      return Reason.AuthenticationFailed;
    case 'Configuration':
      return Reason.ConfigurationError;
    case 'NotFound':
      return Reason.NotFound;
    default:
      return Reason.SyncFailed;
  }
}

function invalidResultMessage(
  problem: ResultProblem,
  exitCode: number | undefined,
  jobMessage: string | undefined,
): string {
  const exit = exitCode === undefined ? 'without an exit code' : `with exit code ${exitCode}`;
  const why =
    problem.code === 'Missing'
      ? 'wrote no result to its termination message'
      : problem.code === 'NotJSON'
        ? `wrote a termination message that is not a result (${problem.detail})`
        : `wrote an invalid result (${problem.detail})`;
  const job = jobMessage ? ` Job: ${jobMessage}.` : '';
  return `the connector ended ${exit} and ${why}; see its pod's output.${job}`.slice(0, 1024);
}

function containerOf(pod: V1Pod | undefined) {
  const statuses = pod?.status?.containerStatuses ?? [];
  return statuses.find((s) => s.name === CONNECTOR_CONTAINER) ?? statuses[0];
}

function newestPod(pods: readonly V1Pod[]): V1Pod | undefined {
  return [...pods].sort(
    (a, b) =>
      (toDate(b.metadata?.creationTimestamp)?.getTime() ?? 0) -
      (toDate(a.metadata?.creationTimestamp)?.getTime() ?? 0),
  )[0];
}
