/**
 * Every Job ever created in the chaos cluster, from the API server's audit log (not a watch: a
 * watch misses what is created and pruned while it reconnects, and the API server restarts in
 * these scenarios). The policy logs Job creates with their response; nothing else.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { JobAnnotation, JobLabel } from '../../../operator/controller/plan/job.ts';

/** The audit policy of the chaos cluster: Job creates at RequestResponse, nothing else. */
export const JOB_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: RequestResponse
  verbs: [create]
  resources: [{group: batch, resources: [jobs]}]
- level: None
`;

/** One Job the API server created (HTTP 201). */
export interface CreatedJob {
  namespace: string;
  name: string;
  integration: string;
  kind: string;
  dueTime: string;
  attempt: string;
  /** When the API server answered, ms epoch. */
  createdAtMs: number;
  /** When the API server began receiving the create, ms epoch (a request sent in parts can end later). */
  receivedAtMs: number;
  /** Who created it. */
  user: string;
  /** With which client: the operator's names its replica, `tributary-operator (<identity>)`. */
  userAgent: string;
  /** `JTI=<jti>` of the token used (each OperatorProcess has its own); '' when none written. */
  credentialId: string;
}

const CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

interface AuditEvent {
  stage?: string;
  verb?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  responseObject?: {
    metadata?: {
      name?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
  };
  user?: { username?: string; extra?: Record<string, string[]> };
  userAgent?: string;
  stageTimestamp?: string;
  requestReceivedTimestamp?: string;
}

/** The Jobs created so far, in `namespaces` when given. */
export function createdJobs(auditLogPath: string, namespaces?: readonly string[]): CreatedJob[] {
  if (!existsSync(auditLogPath)) return [];
  const jobs = readNewJobs(auditLogPath);
  return namespaces === undefined
    ? [...jobs]
    : jobs.filter((j) => namespaces.includes(j.namespace));
}

/** What has been read of one audit log: scenarios poll it often, so only new bytes are parsed. */
interface LogCursor {
  /** Bytes read so far, up to the end of the last whole line. */
  offset: number;
  jobs: CreatedJob[];
}
const cursors = new Map<string, LogCursor>();

function readNewJobs(path: string): CreatedJob[] {
  const size = statSync(path).size;
  let cursor = cursors.get(path);
  if (cursor === undefined || size < cursor.offset) {
    cursor = { offset: 0, jobs: [] };
    cursors.set(path, cursor);
  }
  if (size === cursor.offset) return cursor.jobs;
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(size - cursor.offset);
    const read = readSync(fd, bytes, 0, bytes.length, cursor.offset);
    // Whole lines only: a line still being written (or a character split) waits for the next read.
    const whole = bytes.subarray(0, read).lastIndexOf(0x0a) + 1;
    cursor.offset += whole;
    for (const line of bytes.subarray(0, whole).toString('utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const job = createdJob(JSON.parse(line) as AuditEvent);
      if (job !== undefined) cursor.jobs.push(job);
    }
  } finally {
    closeSync(fd);
  }
  return cursor.jobs;
}

function createdJob(event: AuditEvent): CreatedJob | undefined {
  if (event.stage !== 'ResponseComplete' || event.verb !== 'create') return undefined;
  if (event.objectRef?.resource !== 'jobs' || event.responseStatus?.code !== 201) return undefined;
  const metadata = event.responseObject?.metadata ?? {};
  const annotations = metadata.annotations ?? {};
  return {
    namespace: event.objectRef.namespace ?? '',
    name: metadata.name ?? event.objectRef.name ?? '',
    integration: metadata.labels?.[JobLabel.Integration] ?? '',
    kind: metadata.labels?.[JobLabel.RunKind] ?? '',
    dueTime: annotations[JobAnnotation.DueTime] ?? '',
    attempt: annotations[JobAnnotation.Attempt] ?? '',
    createdAtMs: new Date(event.stageTimestamp ?? 0).getTime(),
    receivedAtMs: new Date(event.requestReceivedTimestamp ?? event.stageTimestamp ?? 0).getTime(),
    user: event.user?.username ?? '',
    userAgent: event.userAgent ?? '',
    credentialId: event.user?.extra?.[CREDENTIAL_ID]?.[0] ?? '',
  };
}

/** Duplicate runs: Jobs beyond the first for one (Integration, kind, due time, attempt). */
export function duplicateRuns(jobs: readonly CreatedJob[]): { count: number; samples: string[] } {
  const seen = new Map<string, number>();
  for (const job of jobs) {
    const key = `${job.namespace}/${job.integration} ${job.kind} ${job.dueTime} #${job.attempt}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const repeated = [...seen].filter(([, n]) => n > 1);
  return {
    count: repeated.reduce((sum, [, n]) => sum + n - 1, 0),
    samples: repeated.slice(0, 5).map(([key, n]) => `${key} ×${n}`),
  };
}

/** What {@link missedRuns} judges against. */
export interface MissWindow {
  /** Interval of the Integrations' sync trigger, ms. */
  intervalMs: number;
  /** Their startingDeadline, ms. */
  deadlineMs: number;
  /** From when runs were expected, ms epoch (after the load was up). */
  fromMs: number;
  /** Until when, ms epoch. */
  toMs: number;
}

/**
 * Due runs missed beyond their starting deadline, per sync Integration: a first attempt created
 * more than `deadline` after its due time (it should have been skipped), or a stretch longer
 * than `interval + deadline` in which no run of the Integration started (a due run in it could
 * not have started within its deadline). Superseded due times (several fell due while no leader
 * ran, and the most recent one ran in time) are not misses: the CronJob controller's rule.
 */
export function missedRuns(
  jobs: readonly CreatedJob[],
  integrations: readonly string[],
  window: MissWindow,
): { count: number; samples: string[] } {
  const samples: string[] = [];
  let count = 0;
  for (const integration of integrations) {
    const starts = jobs
      .filter((job) => job.integration === integration && job.kind === 'sync')
      .filter((job) => job.attempt === '1')
      .map((job) => ({ due: new Date(job.dueTime).getTime(), created: job.createdAtMs }))
      .sort((a, b) => a.due - b.due);
    for (const start of starts) {
      if (start.due < window.fromMs || start.created - start.due <= window.deadlineMs) continue;
      count++;
      samples.push(`${integration}: due ${new Date(start.due).toISOString()} started late`);
    }
    const created = [window.fromMs, ...starts.map((s) => s.created), window.toMs]
      .filter((t) => t >= window.fromMs && t <= window.toMs)
      .sort((a, b) => a - b);
    for (let i = 1; i < created.length; i++) {
      const gap = (created[i] ?? 0) - (created[i - 1] ?? 0);
      if (gap <= window.intervalMs + window.deadlineMs) continue;
      count++;
      samples.push(`${integration}: no run for ${Math.round(gap / 1000)} s`);
    }
  }
  return { count, samples: samples.slice(0, 5) };
}
