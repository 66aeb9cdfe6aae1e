/**
 * Pods that cannot start: a run whose pod cannot pull its image, cannot be scheduled, cannot
 * create its container, or whose Job made no pod at all would otherwise sit until timeouts.run
 * (30 min by default) and then be retried. After a short grace (the kubelet's first back-offs)
 * such a run is ended and recorded as a failure that is not retried: a human must fix the image,
 * the nodes or the admission policy. Pure: a function of the Job, its pod and now.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { Reason } from '../../api/index.ts';
import { toDate } from '../../lib/time.ts';

/**
 * How long a run may wait in a start problem before it is ended: about two minutes of the
 * kubelet's image pull back-off (10 s, 20 s, 40 s, 80 s), enough for a slow registry or a node
 * that is scaling up, far short of timeouts.run.
 */
export const POD_START_GRACE_MS = 2 * 60 * 1000;

/** Kubelet waiting reasons that mean the image cannot be pulled; retried by the kubelet. */
const PULL_BACKOFF = new Set(['ErrImagePull', 'ImagePullBackOff']);
/** Kubelet waiting reasons no back-off will fix: ended at once. */
const NEVER_PULLS = new Set(['InvalidImageName', 'ErrImageNeverPull']);
/** Kubelet waiting reasons of a container that cannot be created or run. */
const CANNOT_CREATE = new Set(['CreateContainerError', 'RunContainerError']);

/** A start problem of an active run: when it ends the run, and what to record. */
export interface StartProblem {
  /** When the run is ended if the problem lasts (the grace's end; earlier ones at once). */
  endAt: Date;
  /** The reason recorded on the failed attempt (and Stalled). */
  reason: Reason;
  /** What happened and what to do, for the run record and the condition. */
  message: string;
}

/** The start problem of an active run, if its pod (or its lack of one) shows one. */
export function startProblem(
  job: V1Job,
  pod: V1Pod | undefined,
  createdAt: Date,
): StartProblem | undefined {
  const jobName = job.metadata?.name ?? '';
  if (pod === undefined) {
    const { active = 0, failed = 0, succeeded = 0 } = job.status ?? {};
    if (active + failed + succeeded > 0) return undefined;
    return {
      endAt: after(createdAt),
      reason: Reason.PodNotCreated,
      message: `Job ${jobName} created no pod: see "kubectl describe job ${jobName}" for what refused it (a ResourceQuota on pods, Pod Security admission, a missing ServiceAccount)`,
    };
  }
  const since = toDate(pod.metadata?.creationTimestamp) ?? createdAt;
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  const reason = waiting?.reason ?? '';
  const said = waiting?.message ? `: ${waiting.message}` : '';
  const image = pod.spec?.containers[0]?.image ?? 'the image';
  if (NEVER_PULLS.has(reason) || PULL_BACKOFF.has(reason)) {
    return {
      endAt: NEVER_PULLS.has(reason) ? since : after(since),
      reason: Reason.ImagePullFailed,
      message: `run ${jobName} cannot pull ${image} (${reason}${said}): fix the image reference or the registry credentials`,
    };
  }
  if (CANNOT_CREATE.has(reason)) {
    return {
      endAt: after(since),
      reason: Reason.ContainerCreateFailed,
      message: `run ${jobName} cannot create its container (${reason}${said})`,
    };
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {
      endAt: after(since),
      reason: Reason.PodUnschedulable,
      message: `run ${jobName} cannot be scheduled: ${scheduled.message ?? 'no node fits'}; check spec.run (resources, nodeSelector, tolerations, affinity) against the nodes`,
    };
  }
  return undefined;
}

function after(time: Date): Date {
  return new Date(time.getTime() + POD_START_GRACE_MS);
}
