/**
 * The scale benchmark's cluster parts, on a control plane of their own (no process node):
 * kwok's fake Nodes, kube-scheduler placing pods on them, kwok's pod stages taking a Job's pod
 * to Succeeded after the delay its annotations ask, Kubernetes' CronJob controller in a second
 * controller manager with its own `/metrics`, and a `stop()` that leaves no process behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  BatchV1Api,
  CoreV1Api,
  type V1CronJob,
  type V1Job,
  type V1Pod,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../dev/cluster/cluster.ts';
import {
  KWOK_NODE_RESOURCES,
  KWOK_TAINT,
  KWOK_PLACEMENT,
  kwokPodTemplate,
  podCompleteWithMessage,
} from '../../dev/cluster/kwok.ts';
import { waitFor } from '../../dev/cluster/processes.ts';

let cluster: Cluster;
let batch: BatchV1Api;
let core: CoreV1Api;
const namespace = 'kwok-test';

beforeAll(async () => {
  cluster = await startCluster({
    processNode: false,
    scheduler: true,
    kwok: { nodes: 2 },
    cronJobController: { qps: 20, burst: 30, workers: 5 },
  });
  batch = cluster.kubeConfig.makeApiClient(BatchV1Api);
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await cluster.stop();
});

/** A pod template that runs nothing (kwok plays it) and Succeeds `completeAfterMs` after Running. */
function template(completeAfterMs: number): V1PodTemplateSpec {
  const spec: V1PodTemplateSpec = {
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: 'registry.invalid/tributary/none:0' }],
    },
  };
  return kwokPodTemplate(spec, { completeAfterMs });
}

const podsOf = async (job: string) =>
  (await core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` })).items;

describe('kwok Nodes', () => {
  it('are Ready, initialized by kwok, with only the kwok taint and room for thousands of pods', async () => {
    const nodes = (await core.listNode()).items;
    expect(nodes.map((node) => node.metadata?.name).sort()).toEqual(cluster.kwok?.nodeNames);
    for (const node of nodes) {
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status).toBe('True');
      expect(node.status?.nodeInfo?.kubeletVersion).toBe('kwok-v0.8.0');
      expect(node.spec?.taints).toEqual([KWOK_TAINT]);
      expect(node.status?.allocatable?.pods).toBe(KWOK_NODE_RESOURCES.pods);
    }
  });
});

describe('a Job on kwok', () => {
  const name = 'kwok-job';
  const completeAfterMs = 8000;

  it('is scheduled onto a kwok Node by kube-scheduler, Runs, Succeeds after the delay, and completes', async () => {
    const job: V1Job = {
      metadata: { name },
      spec: { backoffLimit: 0, template: template(completeAfterMs) },
    };
    await batch.createNamespacedJob({ namespace, body: job });
    const phases = new Set<string>();
    const pod = await waitFor(
      `the pod of Job ${name} to succeed`,
      async () => {
        const [found] = await podsOf(name);
        if (found?.status?.phase !== undefined) phases.add(found.status.phase);
        return found?.status?.phase === 'Succeeded' ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(cluster.kwok?.nodeNames).toContain(pod.spec?.nodeName);
    expect(phases).toContain('Running');
    expect(await scheduledBy(pod)).toBe('default-scheduler');
    // The delay held: the default jitter (5 s) would have cut an 8 s delay short.
    expect(runSeconds(pod)).toBeGreaterThanOrEqual(completeAfterMs / 1000 - 1);
    await waitFor(`Job ${name} to be Complete`, async () => {
      const read = await batch.readNamespacedJob({ name, namespace });
      const complete = read.status?.conditions?.find((c) => c.type === 'Complete');
      return complete?.status === 'True' ? true : undefined;
    });
  });
});

describe('a Job on kwok with a termination message', () => {
  it("Succeeds with the annotation's message as its container's, after the delay", async () => {
    const name = 'kwok-message';
    const message = '{"version":"tributary.dev/result/v1","outcome":"Succeeded"}';
    const body: V1Job = {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { annotations: podCompleteWithMessage(3000, message) },
          spec: {
            ...KWOK_PLACEMENT,
            restartPolicy: 'Never',
            containers: [{ name: 'main', image: 'kwok.invalid/run:0' }],
          },
        },
      },
    };
    await batch.createNamespacedJob({ namespace, body });
    const pod = await waitFor(
      `the pod of Job ${name} to succeed`,
      async () => {
        const [found] = await podsOf(name);
        return found?.status?.phase === 'Succeeded' ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe(message);
    expect(runSeconds(pod)).toBeGreaterThanOrEqual(2);
  });
});

/** Who reported the pod's Scheduled event. */
async function scheduledBy(pod: V1Pod): Promise<string | undefined> {
  const events = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${pod.metadata?.name ?? ''},reason=Scheduled`,
  });
  const [event] = events.items;
  return event?.reportingComponent ?? event?.source?.component;
}

/** Seconds from the pod's start to its container's end, as kwok stamped them. */
function runSeconds(pod: V1Pod): number {
  const started = pod.status?.startTime;
  const finished = pod.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt;
  if (started === undefined || finished === undefined) return Number.NaN;
  return (new Date(finished).getTime() - new Date(started).getTime()) / 1000;
}

describe('the CronJob controller manager', () => {
  it('creates a Job for an every-minute CronJob and reports its skew on /metrics', async () => {
    const cronJob: V1CronJob = {
      metadata: { name: 'every-minute' },
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Forbid',
        jobTemplate: { spec: { backoffLimit: 0, template: template(1000) } },
      },
    };
    await batch.createNamespacedCronJob({ namespace, body: cronJob });
    const job = await waitFor(
      'a Job of CronJob every-minute',
      async () => {
        const jobs = (await batch.listNamespacedJob({ namespace })).items;
        return jobs.find((j) => j.metadata?.ownerReferences?.[0]?.name === 'every-minute');
      },
      { timeoutMs: 75_000, intervalMs: 500 },
    );
    // The CronJob controller v2 stamps the time it was scheduled for.
    expect(job.metadata?.annotations).toHaveProperty(
      'batch.kubernetes.io/cronjob-scheduled-timestamp',
    );
    const metrics = (await cluster.cronJobController?.metrics()) ?? '';
    const count = /^cronjob_controller_job_creation_skew_duration_seconds_count (\d+)/m.exec(
      metrics,
    );
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(1);
    const pid = cluster.cronJobController?.pid;
    expect(readFileSync(`/proc/${String(pid)}/status`, 'utf8')).toMatch(/^VmRSS:\s+\d+ kB/m);
  }, 100_000);
});

describe('stop()', () => {
  it('leaves no kwok, kube-scheduler or controller manager process', async () => {
    const pids = [cluster.kwok?.pid, cluster.scheduler?.pid, cluster.cronJobController?.pid];
    expect(pids.every((pid) => pid !== undefined)).toBe(true);
    const dir = cluster.info.dir;
    expect(processesMentioning(dir).length).toBeGreaterThan(0);
    await cluster.stop();
    expect(processesMentioning(dir)).toEqual([]);
    for (const pid of pids) expect(alive(pid ?? 0)).toBe(false);
    expect([cluster.kwok?.pid, cluster.scheduler?.pid, cluster.cronJobController?.pid]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

/** Command lines of running processes that mention `text` (every daemon's flags hold its dir). */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmdline.includes(text) ? [cmdline] : [];
      } catch {
        return [];
      }
    });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
