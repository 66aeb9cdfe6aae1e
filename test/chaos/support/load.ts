/**
 * The load the chaos scenarios run under: Integrations on short intervals, run by the quick
 * connector (a shell, so two cores hold hundreds of runs a minute), each referencing sentinel
 * Secrets for its source and destination, with a starting deadline the misses are judged by.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { ClusterClient } from '../../../dev/cluster/cluster.ts';
import { QUICK_CONNECTOR_IMAGE } from '../../../dev/cluster/images.ts';
import { waitFor } from '../../../dev/cluster/processes.ts';
import { createdJobs, duplicateRuns, missedRuns, type CreatedJob } from './ledger.ts';
import { sentinelSecret } from './sentinels.ts';

/** The sync trigger of the load. */
export const LOAD_INTERVAL_MS = 10_000;
/** Its startingDeadline: above any failover, below what a user would call "on time". */
export const LOAD_DEADLINE_MS = 60_000;

/** A namespace of Integrations under load. */
export interface Load {
  namespace: string;
  names: string[];
  /** When every Integration had its first run, ms epoch. */
  upAtMs: number;
}

/** The spec of one load Integration. */
export function loadSpec(): Record<string, unknown> {
  return {
    connector: { image: QUICK_CONNECTOR_IMAGE },
    source: {
      provider: 'stripe',
      resource: 'customers',
      baseURL: 'http://127.0.0.1:9/',
      credentialsRef: { name: 'load-credentials', key: 'apiKey' },
    },
    destination: {
      url: 'http://127.0.0.1:9/records',
      credentialsRef: { name: 'load-credentials', key: 'destinationToken' },
    },
    overrides: {
      sync: {
        interval: `${LOAD_INTERVAL_MS / 1000}s`,
        jitter: '0%',
        startingDeadline: `${LOAD_DEADLINE_MS / 1000}s`,
      },
    },
  };
}

/** Creates the namespace's sentinel Secret and `count` Integrations; waits for their first runs. */
export async function startLoad(
  client: ClusterClient,
  auditLogPath: string,
  namespace: string,
  count: number,
): Promise<Load> {
  await sentinelSecret(client, namespace, 'load-credentials', ['apiKey', 'destinationToken']);
  const custom = client.kubeConfig.makeApiClient(CustomObjectsApi);
  const names = Array.from({ length: count }, (_, i) => `load-${String(i).padStart(3, '0')}`);
  for (const name of names) {
    await custom.createNamespacedCustomObject({
      group: 'tributary.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'integrations',
      body: {
        apiVersion: 'tributary.dev/v1alpha1',
        kind: 'Integration',
        metadata: { name },
        spec: loadSpec(),
      },
    });
  }
  await waitFor(
    `a first run of each of ${count} Integrations`,
    () => {
      const started = new Set(createdJobs(auditLogPath, [namespace]).map((job) => job.integration));
      return Promise.resolve(names.every((name) => started.has(name)) ? true : undefined);
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
  return { namespace, names, upAtMs: Date.now() };
}

/** Duplicates and misses of the load's runs from `upAtMs` until now. */
export function judgeLoad(auditLogPath: string, load: Load) {
  const jobs: CreatedJob[] = createdJobs(auditLogPath, [load.namespace]);
  const window = {
    intervalMs: LOAD_INTERVAL_MS,
    deadlineMs: LOAD_DEADLINE_MS,
    fromMs: load.upAtMs,
    toMs: Date.now(),
  };
  return {
    jobs: jobs.length,
    duplicates: duplicateRuns(jobs),
    misses: missedRuns(jobs, load.names, window),
  };
}

/**
 * Names of the load's Integrations not Ready=True, once they have had `settleMs` to become so
 * (a run that ended with its replica still reports on the next leader's first reconcile).
 */
export async function notReady(
  client: ClusterClient,
  load: Load,
  settleMs = 60_000,
): Promise<string[]> {
  const until = Date.now() + settleMs;
  let names = await notReadyNow(client, load);
  while (names.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    names = await notReadyNow(client, load);
  }
  return names;
}

async function notReadyNow(client: ClusterClient, load: Load): Promise<string[]> {
  const listed = await client.kubectl(['get', 'integrations', '-n', load.namespace, '-o', 'json']);
  const items = (JSON.parse(listed.stdout) as { items: Stored[] }).items;
  return load.names.filter((name) => {
    const item = items.find((i) => i.metadata.name === name);
    return item?.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True';
  });
}

interface Stored {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}
