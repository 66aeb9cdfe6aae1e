/** Helpers shared by integration tests: the cluster client and per-test namespaces. */
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { ClusterClient } from '../../dev/cluster/cluster.ts';

/** The cluster started by the global set-up. */
export function cluster(): ClusterClient {
  return new ClusterClient(inject('cluster'));
}

const created: string[] = [];

/** Labels of a namespace that enforces the `restricted` Pod Security level. */
export const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' };

/**
 * Creates a namespace with a unique name (prefix + random suffix) and `labels`; returns its
 * name. Tests never share namespaces, so they can run in any order.
 */
export async function createNamespace(
  client: ClusterClient,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels } } });
  created.push(name);
  return name;
}

/**
 * Deletes the namespaces created so far (and so their Integrations and Jobs), without waiting:
 * tests that leave schedules running would otherwise load the rest of the run.
 */
export async function deleteNamespaces(client: ClusterClient): Promise<void> {
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  await Promise.all(
    created.splice(0).map((name) => core.deleteNamespace({ name }).catch(() => undefined)),
  );
}
