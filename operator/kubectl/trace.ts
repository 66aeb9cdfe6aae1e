/**
 * `kubectl tributary trace NAME`: Integration → ReconcilePolicy → Secrets referenced (names
 * only: read as metadata, never their data) → Jobs → pods → Events, each with its health.
 */
import { API_VERSION } from '../api/common.ts';
import type { Integration } from '../api/index.ts';
import { apiPath } from '../lib/kube/api.ts';
import { ApiError } from '../lib/kube/errors.ts';
import { list, readIntegration, session, type FlagValues, type Session } from './client.ts';
import { readiness, renderTree, type TreeNode } from './format.ts';
import {
  eventNode,
  jobHealth,
  podHealth,
  type KubeEvent,
  type KubeJob,
  type KubePod,
} from './objects.ts';

const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** The names of the Secrets `spec` refers to (any `*Ref` object with `name` and `key`). */
export function secretNames(spec: unknown): string[] {
  const names = new Set<string>();
  const walk = (value: unknown) => {
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const ref = child as { name?: unknown; key?: unknown } | null;
      if (/Ref$/.test(key) && typeof ref?.name === 'string' && typeof ref.key === 'string') {
        names.add(ref.name);
      } else walk(child);
    }
  };
  walk(spec);
  return [...names].sort();
}

async function exists(
  s: Session,
  path: string,
  accept?: string,
): Promise<{ found: boolean; object?: unknown }> {
  try {
    return {
      found: true,
      object: await s.api.request({ path, ...(accept === undefined ? {} : { accept }) }),
    };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { found: false };
    throw error;
  }
}

async function policyNode(s: Session, integration: Integration): Promise<TreeNode | undefined> {
  const name = integration.spec.policyRef?.name;
  if (name === undefined) return undefined;
  const path = `/apis/${API_VERSION}${apiPath`/namespaces/${s.namespace}/reconcilepolicies/${name}`}`;
  const { found, object } = await exists(s, path);
  const ready = (
    object as { status?: { conditions?: { type: string; status: string }[] } } | undefined
  )?.status?.conditions?.find((condition) => condition.type === 'Ready');
  const health = !found ? 'NotFound' : ready === undefined ? 'Found' : `Ready=${ready.status}`;
  return { label: `ReconcilePolicy/${name}`, health, children: [] };
}

async function secretNodes(s: Session, integration: Integration): Promise<TreeNode[]> {
  return Promise.all(
    secretNames(integration.spec).map(async (name) => {
      const { found } = await exists(
        s,
        apiPath`/api/v1/namespaces/${s.namespace}/secrets/${name}`,
        METADATA_ONLY,
      );
      return { label: `Secret/${name}`, health: found ? 'Found' : 'NotFound', children: [] };
    }),
  );
}

/** The tree of `name`. */
export async function traceTree(s: Session, name: string): Promise<TreeNode> {
  const integration = await readIntegration(s, name);
  const uid = integration.metadata.uid ?? '';
  const selector = { labelSelector: `tributary.dev/integration-uid=${uid}` };
  const [jobs, pods, events] = await Promise.all([
    list<KubeJob>(s, apiPath`/apis/batch/v1/namespaces/${s.namespace}/jobs`, selector),
    list<KubePod>(s, apiPath`/api/v1/namespaces/${s.namespace}/pods`, selector),
    list<KubeEvent>(s, apiPath`/api/v1/namespaces/${s.namespace}/events`),
  ]);
  const eventsOf = (objectUid: string | undefined) =>
    events.filter((event) => event.involvedObject.uid === objectUid).map(eventNode);
  const jobNodes = jobs
    .sort((a, b) =>
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
    )
    .map((job) => ({
      label: `Job/${job.metadata.name}`,
      health: jobHealth(job),
      children: [
        ...pods
          .filter(
            (pod) =>
              pod.metadata.labels?.['batch.kubernetes.io/job-name'] === job.metadata.name ||
              pod.metadata.labels?.['job-name'] === job.metadata.name,
          )
          .map((pod) => ({
            label: `Pod/${pod.metadata.name}`,
            health: podHealth(pod),
            children: eventsOf(pod.metadata.uid),
          })),
        ...eventsOf(job.metadata.uid),
      ],
    }));
  const policy = await policyNode(s, integration);
  const { ready, reason } = readiness(integration);
  return {
    label: `Integration/${s.namespace}/${name}`,
    health: `Ready=${ready}${reason === '' ? '' : ` ${reason}`}${integration.spec.suspend === true ? ' Suspended' : ''}`,
    children: [
      ...(policy === undefined ? [] : [policy]),
      ...(await secretNodes(s, integration)),
      ...jobNodes,
      ...eventsOf(uid),
    ],
  };
}

/** Prints the tree; resolves to the exit code. */
export async function trace(args: string[], values: FlagValues): Promise<number> {
  const s = session(values);
  console.log(renderTree(await traceTree(s, args[0] ?? '')));
  return 0;
}
