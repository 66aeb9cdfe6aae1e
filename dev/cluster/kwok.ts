/**
 * kwok for a local cluster (`ClusterOptions.kwok`): fake Nodes whose "kubelet" is one kwok
 * process, so thousands of Job pods can run without running anything. kwok manages only the Nodes
 * labelled {@link KWOK_NODE_LABELS} (never the process node) and plays the stages `build.sh`
 * assembled from kwok's own definitions (dev/kwok/stages.txt): a Node is Ready at once; a pod bound
 * to one is Running at once, a Job's pod Succeeds after the delay of
 * {@link podCompleteAnnotations}, and a deleted pod goes at once. kwok does not schedule:
 * kube-scheduler (`ClusterOptions.scheduler`) binds the pods. The Nodes carry the taint
 * {@link KWOK_TAINT}, so only pods that tolerate it land there ({@link kwokPodTemplate}).
 */
import { mkdirSync } from 'node:fs';
import { podCompleteAnnotations, writeResultStage } from './kwok-stages.ts';

export {
  POD_COMPLETE_DELAY_ANNOTATION,
  POD_COMPLETE_JITTER_ANNOTATION,
  podCompleteAnnotations,
  podCompleteWithMessage,
  TERMINATION_MESSAGE_ANNOTATION,
} from './kwok-stages.ts';
import { join } from 'node:path';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1PodTemplateSpec,
  type V1Taint,
  type V1Toleration,
} from '@kubernetes/client-node';
import { requireBinary } from './binaries.ts';
import { Daemon, waitFor } from './processes.ts';

/** What `ClusterOptions.kwok` takes. */
export interface KwokOptions {
  /** How many fake Nodes to create (each holds {@link KWOK_NODE_RESOURCES}). */
  nodes: number;
  /** kwok's log level. Default `WARN`: at `INFO` it logs a line per pod transition. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** kwok and its Nodes. */
export interface KwokFleet {
  /** The fake Nodes' names, `kwok-node-0` ... */
  readonly nodeNames: readonly string[];
  /** kwok's process id; undefined once stopped. */
  readonly pid: number | undefined;
}

/** The labels that make a Node kwok's (`--manage-nodes-with-label-selector`). */
export const KWOK_NODE_LABELS = { type: 'kwok' } as const;

/** The taint on every kwok Node: pods land there only when they tolerate it. */
export const KWOK_TAINT: V1Taint = {
  key: 'kwok.x-k8s.io/node',
  value: 'fake',
  effect: 'NoSchedule',
};

/**
 * Capacity and allocatable of each kwok Node: room for 10,000 pods and 1,000 CPUs, so requests
 * never limit a benchmark; kwok's node-initialize stage keeps what the Node was created with.
 * Written in the API server's canonical form, so they read back as written.
 */
export const KWOK_NODE_RESOURCES = { cpu: '1k', memory: '4Ti', pods: '10k' } as const;

/** What puts a pod on a kwok Node: its node selector and the toleration of {@link KWOK_TAINT}. */
export const KWOK_PLACEMENT: { nodeSelector: Record<string, string>; tolerations: V1Toleration[] } =
  {
    nodeSelector: { ...KWOK_NODE_LABELS },
    tolerations: [
      { key: KWOK_TAINT.key, operator: 'Equal', value: KWOK_TAINT.value, effect: 'NoSchedule' },
    ],
  };

/* eslint-disable @typescript-eslint/no-misused-spread --
   client-node models are plain data classes (only a static attribute map), as in process-node.ts:
   spreading one keeps every field the client serializes. */
/**
 * `template` with what runs it on a kwok Node: {@link KWOK_PLACEMENT} (merged into its own node
 * selector and tolerations) and {@link podCompleteAnnotations}`(completeAfterMs)`. A copy; the
 * input is not changed.
 */
export function kwokPodTemplate(
  template: V1PodTemplateSpec,
  { completeAfterMs }: { completeAfterMs: number },
): V1PodTemplateSpec {
  const spec = template.spec ?? { containers: [] };
  return {
    ...template,
    metadata: {
      ...template.metadata,
      annotations: {
        ...template.metadata?.annotations,
        ...podCompleteAnnotations(completeAfterMs),
      },
    },
    spec: {
      ...spec,
      nodeSelector: { ...spec.nodeSelector, ...KWOK_PLACEMENT.nodeSelector },
      tolerations: [...(spec.tolerations ?? []), ...KWOK_PLACEMENT.tolerations],
    },
  };
}
/* eslint-enable @typescript-eslint/no-misused-spread */

/** What {@link startKwok} needs. */
export interface KwokStart extends KwokOptions {
  binary: string;
  /** The stage file (`Binaries.kwokStages`). */
  stages: string;
  /** The cluster dir: kwok's home and log go under it. */
  dir: string;
  /** A kubeconfig as kwok's own user. */
  kubeconfigPath: string;
  /** Where the daemon is pushed once spawned (the cluster stops it). */
  daemons: Daemon[];
}

/** Creates the fake Nodes, starts kwok, and resolves once every Node is Ready. */
export async function startKwok(start: KwokStart, kubeConfig: KubeConfig): Promise<KwokFleet> {
  requireBinary(start.binary);
  requireBinary(start.stages, { file: true });
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const nodeNames = Array.from({ length: start.nodes }, (_, i) => `kwok-node-${i}`);
  for (const name of nodeNames) await createNode(core, name);
  const home = join(start.dir, 'kwok');
  mkdirSync(home, { recursive: true });
  const daemon = Daemon.start(
    'kwok',
    start.binary,
    [
      `--kubeconfig=${start.kubeconfigPath}`,
      `--config=${start.stages}`,
      `--config=${writeResultStage(home)}`,
      `--manage-nodes-with-label-selector=${labelSelector()}`,
      // No node Leases: nothing here reads them (no node lifecycle controller), and each renewal
      // would be an API write every 10 s per Node.
      '--node-lease-duration-seconds=0',
      // kwok's default 10.0.0.0/24 holds 254 pod IPs.
      '--cidr=10.64.0.0/10',
      `--v=${start.logLevel ?? 'WARN'}`,
    ],
    join(start.dir, 'logs', 'kwok.log'),
    // kwok also reads ~/.kwok/kwok.yaml when it exists: a home of its own keeps it out.
    { ...process.env, HOME: home },
  );
  start.daemons.push(daemon);
  await waitFor(
    `${start.nodes} kwok Nodes Ready`,
    async () => {
      daemon.assertRunning();
      const list = await core.listNode({ labelSelector: labelSelector() });
      return list.items.filter(isReady).length === start.nodes ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  return {
    nodeNames,
    get pid() {
      return daemon.running ? daemon.pid : undefined;
    },
  };
}

function labelSelector(): string {
  return Object.entries(KWOK_NODE_LABELS)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/**
 * Creates a kwok Node, then sets its taints to {@link KWOK_TAINT} alone: the TaintNodesByCondition
 * admission plugin adds `node.kubernetes.io/not-ready` to every new Node, which only the node
 * lifecycle controller (not run here: it would evict the process node's pods) would lift.
 */
async function createNode(core: CoreV1Api, name: string): Promise<void> {
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        ...KWOK_NODE_LABELS,
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: { taints: [KWOK_TAINT] },
    status: { capacity: { ...KWOK_NODE_RESOURCES }, allocatable: { ...KWOK_NODE_RESOURCES } },
  };
  await core.createNode({ body: node });
  await core.patchNode(
    { name, body: { spec: { taints: [KWOK_TAINT] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

function isReady(node: V1Node): boolean {
  const taints = node.spec?.taints ?? [];
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return ready === true && taints.every((taint) => taint.key === KWOK_TAINT.key);
}
