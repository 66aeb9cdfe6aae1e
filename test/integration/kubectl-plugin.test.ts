/**
 * `kubectl tributary` as a user runs it: the real executable (node operator/cli.ts) with the test
 * cluster's KUBECONFIG, against a running operator; asserted on its output and the cluster.
 */
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_REQUESTED_ANNOTATION } from '../../operator/api/index.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { Integrations } from '../support/integrations.ts';
import { cluster, createNamespace, deleteNamespaces } from '../support/cluster.ts';

const CLI = join(import.meta.dirname, '..', '..', 'operator', 'cli.ts');
const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let operator: OperatorProcess;
let integrations: Integrations;
let ns: string;

/** Runs `kubectl-tributary <args>`; resolves to its exit code and output. */
function plugin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env.PATH ?? '', KUBECONFIG: client.info.kubeconfigPath },
        timeout: 150_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  await installOperator(client);
  operator = await OperatorProcess.start(client);
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
  ns = await createNamespace(client, 'plugin');
  integrations = new Integrations(client, ns);
  await integrations.create('orders', { read: 3 }, { overrides: { sync: { interval: '1h' } } });
  await integrations.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
}, 180_000);

afterAll(async () => {
  await deleteNamespaces(client);
  await operator.stop();
});

describe('kubectl tributary', () => {
  it('get: a health table, -A, -o json', async () => {
    const table = await plugin('get', '-n', ns);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+SUSPENDED\s+LAST SYNC\s+NEXT SYNC\s+MESSAGE/);
    expect(table.stdout).toMatch(/\norders\s+True\s+False\s+\d+s ago\s+in \d+m\s+/);
    const all = await plugin('get', '-A', '-o', 'json');
    const items = (
      JSON.parse(all.stdout) as { items: { metadata: { namespace: string; name: string } }[] }
    ).items;
    expect(items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`)).toContain(
      `${ns}/orders`,
    );
  });

  it('sync --wait: sets the annotation, follows the run, prints its outcome', async () => {
    const jobsBefore = (await integrations.jobs('orders')).length;
    const run = await plugin('sync', 'orders', '-n', ns, '--wait', '--timeout', '2m');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/sync run \S+ Succeeded in \d+s: read=3/);
    const stored = await integrations.get('orders');
    const requested = stored.metadata.annotations?.[SYNC_REQUESTED_ANNOTATION];
    expect(requested).toBeDefined();
    expect(stored.status?.lastHandledSyncRequest).toBe(requested);
    const jobs = await integrations.jobs('orders');
    expect(jobs.length).toBe(jobsBefore + 1);
    expect(run.stdout).toContain(stored.status?.lastSync?.jobName ?? 'no job');
  }, 180_000);

  it('sync --wait exits 1 and shows the failure when the run fails', async () => {
    await integrations.create(
      'broken',
      { attempts: [{ outcome: 'Failed', class: 'Authentication' }] },
      { overrides: { sync: { interval: '1h' } } },
    );
    await integrations.waitForCondition('broken', 'Ready', 'False');
    const run = await plugin('sync', 'broken', '-n', ns, '--wait', '--timeout', '2m');
    expect(run.stdout).toMatch(/sync run \S+ Failed/);
    expect(run.code).toBe(1);
    const stored = await integrations.get('broken');
    expect(stored.status?.lastSync?.outcome).toBe('Failed');
    expect(run.stdout).toContain(stored.status?.lastSync?.jobName ?? 'no job');
  }, 180_000);

  it('suspend and resume set spec.suspend, and get shows it', async () => {
    expect((await plugin('suspend', 'orders', '-n', ns)).code).toBe(0);
    expect((await integrations.get('orders')).spec.suspend).toBe(true);
    expect((await plugin('get', '-n', ns)).stdout).toMatch(/\norders\s+\S+\s+True\s/);
    expect((await plugin('resume', 'orders', '-n', ns)).code).toBe(0);
    expect((await integrations.get('orders')).spec.suspend).toBe(false);
  });

  it('history, trace and events show the runs, Jobs and pods of the cluster', async () => {
    const jobs = (await integrations.jobs('orders')).map((job) => job.metadata?.name ?? '');
    const history = await plugin('history', 'orders', '-n', ns);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/^JOB\s+KIND\s+ATTEMPT\s+OUTCOME\s+FINISHED\s+DURATION/);
    for (const job of jobs)
      expect(history.stdout).toMatch(new RegExp(`${job}\\s+sync\\s+1\\s+Succeeded`));

    const trace = await plugin('trace', 'orders', '-n', ns);
    expect(trace.code).toBe(0);
    expect(trace.stdout).toMatch(
      new RegExp(`^Integration/${ns}/orders  \\[Ready=True Succeeded\\]`),
    );
    for (const job of jobs)
      expect(trace.stdout).toMatch(new RegExp(`── Job/${job}  \\[Complete\\]`));
    expect(trace.stdout).toMatch(/── Pod/);

    const uid = (await integrations.get('orders')).metadata.uid;
    const stored = (await core.listNamespacedEvent({ namespace: ns })).items.filter(
      (event) => event.involvedObject.uid === uid,
    );
    const events = await plugin('events', 'orders', '-n', ns);
    expect(events.code).toBe(0);
    for (const event of stored) expect(events.stdout).toContain(event.reason ?? '');
    if (stored.length === 0) expect(events.stdout).toContain('No events');
  });

  it("logs: prints the latest run pod's output through pods/log", async () => {
    const latest = (await integrations.get('orders')).status?.lastSync?.jobName ?? '';
    const pods = await core.listNamespacedPod({
      namespace: ns,
      labelSelector: `batch.kubernetes.io/job-name=${latest}`,
    });
    const pod = pods.items[0]?.metadata?.name ?? 'no pod';
    expect(pod).not.toBe('no pod');
    const logs = await plugin('logs', 'orders', '-n', ns);
    expect(logs.stderr).toBe('');
    expect(logs.code).toBe(0);
    // What the process node wrote for the container, served by its kubelet port.
    const container = pods.items[0]?.spec?.containers[0]?.name ?? '';
    const written = readFileSync(
      join(client.info.nodeDir, 'logs', ns, pod, `${container}.log`),
      'utf8',
    );
    expect(written.length).toBeGreaterThan(0);
    expect(logs.stdout).toBe(written);
    const missing = await plugin('logs', 'orders', '-n', ns, '--run', 'no-such-job');
    expect(missing.stderr).toBe(
      `Error: run "no-such-job" of integration "${ns}/orders" not found\n`,
    );
    expect(missing.code).toBe(1);
  });

  it('version: the client build and the operator Deployment image', async () => {
    const apps = client.kubeConfig.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({
      name: 'tributary-operator',
      namespace: 'tributary-system',
    });
    const image = deployment.spec?.template.spec?.containers[0]?.image ?? 'no image';
    const version = await plugin('version');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^client: tributary 0\.1\.0 /);
    expect(version.stdout).toContain(
      `operator: ${image} (deployment tributary-system/tributary-operator)`,
    );
  });

  it('a missing Integration: Error: integration "ns/x" not found, exit 1', async () => {
    for (const command of ['get', 'trace', 'history', 'suspend', 'sync']) {
      const run = await plugin(command, 'absent', '-n', ns);
      expect(run.stderr).toBe(`Error: integration "${ns}/absent" not found\n`);
      expect(run.code).toBe(1);
    }
  });
});
