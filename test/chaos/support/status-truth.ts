/**
 * Whether the operator's status of the load tells the truth about its runs after `fromMs`: each
 * Integration names as its active run the Job of it still running or, with none running, has had
 * a run started since (status.lastScheduledTime past it). Unlike statusCaughtUp (every
 * last successful sync past `fromMs`), this does not wait on kube-controller-manager to finish
 * Jobs: it is the operator's own catch-up after a restart.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchV1Api, CustomObjectsApi, type V1Job } from '@kubernetes/client-node';
import type { ClusterClient } from '../../../dev/cluster/cluster.ts';
import type { Load } from './load.ts';
import type { CatchUp } from './catch-up.ts';

interface Item {
  metadata: { name: string };
  status?: { lastScheduledTime?: string; activeRun?: { jobName?: string } };
}

const finished = (job: V1Job) =>
  (job.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );

/**
 * Why `item`'s status is not yet true to `jobs` (its runs), or undefined when it is: it shows the
 * Job still running as its active run, or, with none running, a run started after `fromMs`.
 */
export function untruth(item: Item, jobs: V1Job[], fromMs: number): string | undefined {
  const running = jobs.filter((job) => !finished(job)).map((job) => job.metadata?.name);
  const active = item.status?.activeRun?.jobName;
  if (active !== undefined)
    return running.includes(active) ? undefined : `active ${active} has finished`;
  if (running.length > 0) return `running ${running.join(',')} not shown`;
  const scheduled = Date.parse(item.status?.lastScheduledTime ?? '');
  return scheduled > fromMs
    ? undefined
    : `no run started since (last ${item.status?.lastScheduledTime})`;
}

/**
 * Waits up to `timeoutMs` until the status of each load Integration has been true (above) at
 * one poll since `fromMs`: each is judged on its own, since under a run every 10 s some status
 * is always a moment behind a Job that has just finished. `ms`: when the last of them was.
 */
export async function statusTrue(
  client: ClusterClient,
  load: Load,
  fromMs: number,
  timeoutMs = 120_000,
): Promise<CatchUp> {
  const custom = client.kubeConfig.makeApiClient(CustomObjectsApi);
  const batch = client.kubeConfig.makeApiClient(BatchV1Api);
  let behind: string[] = [];
  const pending = new Set(load.names);
  while (Date.now() - fromMs < timeoutMs) {
    const [listed, jobs] = await Promise.all([
      custom
        .listNamespacedCustomObject({
          group: 'tributary.dev',
          version: 'v1alpha1',
          namespace: load.namespace,
          plural: 'integrations',
        })
        .then((list) => (list as { items: Item[] }).items)
        .catch(() => [] as Item[]),
      batch
        .listNamespacedJob({ namespace: load.namespace })
        .then((list) => list.items)
        .catch(() => [] as V1Job[]),
    ]);
    behind = [...pending].flatMap((name) => {
      const item = listed.find((i) => i.metadata.name === name);
      if (item === undefined) return [`${name}: not listed`];
      const mine = jobs.filter((j) => j.metadata?.labels?.['tributary.dev/integration'] === name);
      const why = untruth(item, mine, fromMs);
      if (why === undefined) pending.delete(name);
      return why === undefined ? [] : [`${name}: ${why}`];
    });
    if (pending.size === 0) return { ms: Date.now() - fromMs, behind };
    await sleep(500);
  }
  return { ms: Number.NaN, behind };
}
