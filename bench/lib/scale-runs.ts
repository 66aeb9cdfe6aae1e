/**
 * The run Jobs of both sides as the API server saw them: each `create jobs` of a side in the
 * audit log (when it was received) joined, by the Job's name, with the time the Job was due —
 * Tributary's `tributary.dev/due-time` annotation (first attempts only) and the CronJob
 * controller's `batch.kubernetes.io/cronjob-scheduled-timestamp`. Skew is the difference: what
 * each controller adds between a due time and its Job. Also the schedule changes the skew and
 * burst phases make on both sides' objects.
 */
import { BatchV1Api } from '@kubernetes/client-node';
import type { Cluster } from '../../dev/cluster/cluster.ts';
import type { AuditLog, Side } from './scale-audit.ts';
import { patchObject, SCALE_NAMESPACES } from './scale-objects.ts';

/** The CronJob controller's annotation of a Job's scheduled time (RFC 3339). */
const CRONJOB_SCHEDULED = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Tributary's annotations of a run Job's due time and attempt. */
const TRIBUTARY_DUE = 'tributary.dev/due-time';
const TRIBUTARY_ATTEMPT = 'tributary.dev/attempt';

/** One run started: its Job, when it was due and when its create reached the API server. */
export interface RunStart {
  side: Side;
  job: string;
  dueMs: number;
  createdMs: number;
}

/** Each first-attempt run Job of `side` with its due time, by name. */
async function dueTimes(cluster: Cluster, side: Side): Promise<Map<string, number>> {
  const batch = cluster.kubeConfig.makeApiClient(BatchV1Api);
  const list = await batch.listNamespacedJob({ namespace: SCALE_NAMESPACES[side] });
  const due = new Map<string, number>();
  for (const job of list.items) {
    const annotations = job.metadata?.annotations ?? {};
    const at = side === 'cronjob' ? annotations[CRONJOB_SCHEDULED] : annotations[TRIBUTARY_DUE];
    if (side === 'tributary' && annotations[TRIBUTARY_ATTEMPT] !== '1') continue;
    if (at !== undefined && job.metadata?.name !== undefined)
      due.set(job.metadata.name, Date.parse(at));
  }
  return due;
}

/**
 * The runs `side` started whose due time is in [fromMs, toMs): every Job create in the audit log
 * that names a Job still there (the benchmark deletes none; finished Jobs stay).
 */
export async function runStarts(
  cluster: Cluster,
  audit: AuditLog,
  side: Side,
  fromMs: number,
  toMs: number,
): Promise<RunStart[]> {
  const due = await dueTimes(cluster, side);
  const creates = audit
    .between(side, fromMs - 60_000, Number.POSITIVE_INFINITY)
    .filter((r) => r.verb === 'create' && r.resource === 'jobs');
  const starts: RunStart[] = [];
  for (const create of creates) {
    if (create.name === undefined)
      throw new Error('the audit log names no Job in a create: cannot join it with its due time');
    const dueMs = due.get(create.name);
    if (dueMs === undefined || dueMs < fromMs || dueMs >= toMs) continue;
    starts.push({ side, job: create.name, dueMs, createdMs: create.atMs });
  }
  return starts;
}

/** Sets the schedule of object i to `scheduleOf(i)` for each of `indices` on `side`. */
export async function reschedule(
  cluster: Cluster,
  side: Side,
  indices: readonly number[],
  scheduleOf: (i: number) => string,
  concurrency = 16,
): Promise<void> {
  const patch = (i: number): Promise<unknown> => {
    const schedule = scheduleOf(i);
    return patchObject(cluster, side, i, {
      cronjob: { schedule },
      tributary: { sync: { schedule } },
    });
  };
  let next = 0;
  const worker = async () => {
    while (next < indices.length) await patch(indices[next++] ?? 0);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The cron schedule that falls due once, at the minute of `atMs` (UTC), in a year. */
export function onceAt(atMs: number): string {
  const at = new Date(atMs);
  return `${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

/** The first whole minute at or after `ms`. */
export function minuteAtOrAfter(ms: number): number {
  return Math.ceil(ms / 60_000) * 60_000;
}
