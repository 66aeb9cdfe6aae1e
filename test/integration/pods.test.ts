/**
 * Long-running pods on the process node, as a kubelet runs them: each pod has its own IP (two
 * pods listen on one port), readiness probes gate the Ready condition, liveness probes and
 * exits restart containers by restartPolicy with CrashLoopBackOff, and a killed process is
 * restarted.
 */
import { CoreV1Api, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_NODE_IMAGE } from '../../dev/cluster/images.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { cluster, createNamespace } from '../support/cluster.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace(client, 'pods');
});

/**
 * A server on port 8080 (wildcard host): /readyz and /healthz answer 503 until GET /ready or
 * /sick flips them; /exit ends the process with code 3.
 */
const SERVER = `
let ready = false, healthy = true;
require('http').createServer((req, res) => {
  if (req.url === '/ready') ready = true;
  if (req.url === '/sick') healthy = false;
  if (req.url === '/exit') process.exit(3);
  const ok = req.url === '/readyz' ? ready : req.url === '/healthz' ? healthy : true;
  res.statusCode = ok ? 200 : 503;
  res.end();
}).listen(8080);
process.on('SIGTERM', () => process.exit(0));
`;

function serverContainer(extra: Partial<V1Container> = {}): V1Container {
  return {
    name: 'server',
    image: TEST_NODE_IMAGE,
    args: ['-e', SERVER],
    ports: [{ name: 'http', containerPort: 8080 }],
    ...extra,
  };
}

async function createPod(name: string, container: V1Container, restartPolicy = 'Always') {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        restartPolicy,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [container],
      },
    },
  });
}

/** Waits until `check` holds for the pod; returns it. */
function podWhere(name: string, what: string, check: (pod: V1Pod) => boolean) {
  return waitFor(`pod ${name}: ${what}`, async () => {
    const pod = await core.readNamespacedPod({ namespace, name });
    return check(pod) ? pod : undefined;
  });
}

const ready = (pod: V1Pod) => pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const container = (pod: V1Pod) => pod.status?.containerStatuses?.[0];

/** GET a path of the pod's server at its own IP; the status code, or undefined if none answers. */
async function get(pod: V1Pod, path: string): Promise<number | undefined> {
  try {
    return (await fetch(`http://${pod.status?.podIP ?? ''}:8080${path}`)).status;
  } catch {
    return undefined;
  }
}

describe('pods on the process node', () => {
  it('two pods listen on one container port, each on its own pod IP', async () => {
    await createPod('twin-a', serverContainer());
    await createPod('twin-b', serverContainer());
    const running = (pod: V1Pod) => pod.status?.phase === 'Running';
    const [a, b] = [
      await podWhere('twin-a', 'Running', running),
      await podWhere('twin-b', 'Running', running),
    ];
    expect(a.status?.podIP).not.toBe(b.status?.podIP);
    for (const pod of [a, b]) {
      expect(await waitFor('the server to answer', () => get(pod, '/'))).toBe(200);
    }
  });

  it('is Ready only once its readiness probe passes', async () => {
    const readinessProbe = { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 };
    await createPod('gated', serverContainer({ readinessProbe }));
    const pod = await podWhere('gated', 'Running', (p) => p.status?.phase === 'Running');
    // The server answers, yet its /readyz says 503: the pod is Running but not Ready.
    expect(await waitFor('the server to answer', () => get(pod, '/'))).toBe(200);
    const unready = await core.readNamespacedPod({ namespace, name: 'gated' });
    expect(ready(unready)).toBe('False');
    expect(container(unready)?.ready).toBe(false);
    expect(await get(pod, '/ready')).toBe(200);
    const now = await podWhere('gated', 'Ready', (p) => ready(p) === 'True');
    expect(container(now)?.ready).toBe(true);
    expect(container(now)?.restartCount).toBe(0);
  });

  it('restarts a container that exits (restartPolicy Always), then backs off', async () => {
    await createPod('crashes', {
      name: 'main',
      image: TEST_NODE_IMAGE,
      args: ['-e', 'process.exit(1)'],
    });
    const backingOff = await podWhere(
      'crashes',
      'CrashLoopBackOff',
      (p) => container(p)?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const status = container(backingOff);
    expect(status?.restartCount).toBeGreaterThanOrEqual(1);
    expect(status?.lastState?.terminated?.exitCode).toBe(1);
    expect(status?.state?.waiting?.message).toMatch(
      /^back-off \d+s restarting failed container=main/,
    );
    expect(backingOff.status?.phase).toBe('Running');
  });

  it('leaves a container that succeeded alone under OnFailure; restarts a failed one', async () => {
    await createPod(
      'done-once',
      { name: 'main', image: TEST_NODE_IMAGE, args: ['-e', ''] },
      'OnFailure',
    );
    const done = await podWhere('done-once', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    expect(container(done)?.restartCount).toBe(0);
    await createPod('fails-once', serverContainer(), 'OnFailure');
    const pod = await podWhere('fails-once', 'Running', (p) => p.status?.phase === 'Running');
    await waitFor('the server to answer', () => get(pod, '/'));
    await get(pod, '/exit');
    const restarted = await podWhere(
      'fails-once',
      'restarted',
      (p) => container(p)?.restartCount === 1,
    );
    expect(container(restarted)?.lastState?.terminated?.exitCode).toBe(3);
  });

  it('restarts a container whose liveness probe fails, and one whose process is killed', async () => {
    // The start-up probe holds the liveness probe back until the server listens.
    const startupProbe = { tcpSocket: { port: 'http' }, periodSeconds: 1, failureThreshold: 60 };
    const livenessProbe = {
      httpGet: { path: '/healthz', port: 8080 },
      periodSeconds: 1,
      failureThreshold: 1,
    };
    await createPod('sickly', serverContainer({ startupProbe, livenessProbe }));
    const pod = await podWhere('sickly', 'started', (p) => container(p)?.started === true);
    expect(container(pod)?.restartCount).toBe(0);
    await waitFor('the server to answer', () => get(pod, '/'));
    await get(pod, '/sick');
    const restarted = await podWhere(
      'sickly',
      'restarted and running',
      (p) => container(p)?.restartCount === 1 && container(p)?.state?.running !== undefined,
    );
    // The process node TERMed it (exit 0 on SIGTERM): a liveness kill, not a crash.
    expect(container(restarted)?.lastState?.terminated?.exitCode).toBe(0);
    // Kill the new process as a chaos test would: the node restarts it (after a back-off).
    const pid = Number(container(restarted)?.containerID?.replace('process://', ''));
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const again = await podWhere(
      'sickly',
      'restarted twice',
      (p) => container(p)?.restartCount === 2,
    );
    expect(container(again)?.lastState?.terminated?.exitCode).toBe(137);
  });
});

describe('pods/log on the process node', () => {
  it("serves a container's output through the API server, whole and tailed", async () => {
    await createPod(
      'talker',
      {
        name: 'main',
        image: TEST_NODE_IMAGE,
        args: ['-e', "for (const n of [1, 2, 3]) console.log('line ' + n)"],
      },
      'Never',
    );
    await podWhere('talker', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    const whole = await core.readNamespacedPodLog({ namespace, name: 'talker' });
    expect(whole).toBe('line 1\nline 2\nline 3\n');
    const tail = await core.readNamespacedPodLog({ namespace, name: 'talker', tailLines: 2 });
    expect(tail).toBe('line 2\nline 3\n');
  });
});
