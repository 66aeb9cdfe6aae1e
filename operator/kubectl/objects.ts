/** The few fields of Jobs, pods and Events that `kubectl tributary` reads, and their health. */
import type { TreeNode } from './format.ts';

interface Meta {
  name: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
}

/** A Job, as far as read here. */
export interface KubeJob {
  metadata: Meta;
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

/** A pod, as far as read here. */
export interface KubePod {
  metadata: Meta;
  spec?: { containers?: { name: string }[] };
  status?: { phase?: string };
}

/** An Event (core/v1), as far as read here. */
export interface KubeEvent {
  metadata: Meta;
  involvedObject: { kind?: string; name?: string; uid?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
}

/** Complete, Failed (with reason), Suspended or Running. */
export function jobHealth(job: KubeJob): string {
  const condition = (type: string) =>
    job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const failed = condition('Failed');
  if (condition('Complete') !== undefined) return 'Complete';
  if (failed !== undefined)
    return `Failed${failed.reason === undefined ? '' : ` ${failed.reason}`}`;
  if (condition('Suspended') !== undefined) return 'Suspended';
  return 'Running';
}

/** The pod phase. */
export function podHealth(pod: KubePod): string {
  return pod.status?.phase ?? 'Unknown';
}

/** An Event as a leaf: `Event Warning BackoffLimitExceeded: message`. */
export function eventNode(event: KubeEvent): TreeNode {
  return {
    label: `Event ${event.reason ?? ''}: ${event.message ?? ''}${(event.count ?? 1) > 1 ? ` (x${event.count ?? 1})` : ''}`,
    health: event.type ?? 'Normal',
    children: [],
  };
}

/** When an Event last happened. */
export function eventTime(event: KubeEvent): string {
  return event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? '';
}
