/**
 * Installing what ships, on the real control plane: `kubectl apply --server-side -f manifests/`
 * and the chart (rendered, and installed by Helm itself) apply cleanly; the operator's pod
 * template is admitted where the `restricted` Pod Security level is enforced; a Helm release's
 * own pods reconcile in the namespaces it watches; and the operator, run with exactly the
 * installed ServiceAccount and RBAC, reconciles an Integration to Ready with its sync Job pod
 * admitted in a restricted namespace. The installed Deployment itself runs as pods on the
 * process node: see in-cluster.test.ts. The intake StatefulSet's SQLite claims bind to volumes
 * the test provides, as an administrator would where no provisioner runs (none does here), and
 * its replicas become Ready on them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, OPERATOR_NAMESPACE, RELEASE } from '../../manifests/src/app.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import {
  INTAKE_STATEFULSET,
  installOperator,
  OperatorProcess,
} from '../../dev/cluster/operator.ts';
import { ROOT } from '../fixtures/manifests.ts';
import { runTool } from '../tools/tools.ts';
import { Integrations } from '../support/integrations.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';

const client = cluster();
const apps = client.kubeConfig.makeApiClient(AppsV1Api);
const core = client.kubeConfig.makeApiClient(CoreV1Api);
const dir = mkdtempSync(join(tmpdir(), 'tributary-install-'));
const kubeconfig = join(dir, 'kubeconfig');
let operator: OperatorProcess | undefined;

beforeAll(() => {
  writeFileSync(kubeconfig, client.kubeconfigYaml(), { mode: 0o600 });
});

afterAll(async () => {
  await operator?.stop();
  // What `kubectl apply` and the rendered chart scaled up: no installed replica outlives the file.
  await installOperator(client);
  await deleteNamespaces(client);
  // The intake's claims outlive its pods (a StatefulSet keeps them): free them and the volumes.
  const claims = INTAKE_CLAIMS.map((claim) => `pvc/${claim}`);
  await client.kubectl(['delete', '-n', OPERATOR_NAMESPACE, ...claims, '--ignore-not-found']);
  await client.kubectl(['delete', 'pv', ...INTAKE_CLAIMS, '--ignore-not-found', '--wait=false']);
  rmSync(dir, { recursive: true, force: true });
});

/** The claims of the installed intake's replicas (`<claim template>-<StatefulSet>-<ordinal>`). */
const INTAKE_CLAIMS = [0, 1].map((ordinal) => `data-${INTAKE_STATEFULSET.name}-${ordinal}`);

/**
 * What an administrator provides where no provisioner runs: one volume per intake replica,
 * reserved for its claim (`claimRef`), so no other claim in the cluster can take it.
 */
async function provideIntakeVolumes() {
  for (const claim of INTAKE_CLAIMS) {
    const volume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: claim },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: join(dir, claim), type: 'DirectoryOrCreate' },
        claimRef: { namespace: INTAKE_STATEFULSET.namespace, name: claim },
      },
    };
    await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(volume));
  }
}

/** Integrations in a new namespace that enforces the restricted Pod Security level. */
async function fresh(prefix: string): Promise<Integrations> {
  return new Integrations(client, await createNamespace(client, prefix, RESTRICTED));
}

async function kubectl(args: string[], input?: string) {
  const result = await client.kubectl(args, input === undefined ? {} : { input });
  expect(result.code, `kubectl ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Waits until a namespace has no pods left (a release's operator pods stopped). */
async function podsGone(namespace: string) {
  await waitFor(`no pods in ${namespace}`, async () =>
    (await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined,
  );
}

function helm(args: string[]) {
  const result = runTool('helm', [...args, '--kubeconfig', kubeconfig]);
  expect(result.code, `helm ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('kubectl apply --server-side -f manifests/', () => {
  beforeAll(provideIntakeVolumes);

  it('applies every object cleanly, twice (idempotent)', async () => {
    const objects = parseAllDocuments(
      readFileSync(join(ROOT, 'manifests', 'install.yaml'), 'utf8'),
    ).length;
    for (let round = 0; round < 2; round++) {
      const out = await kubectl(['apply', '--server-side', '-f', join(ROOT, 'manifests')]);
      const applied = out.split('\n').filter((line) => line.endsWith(' serverside-applied'));
      expect(applied).toHaveLength(objects);
    }
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      '-f',
      join(ROOT, 'crds'),
    ]);
    const deployment = await apps.readNamespacedDeployment({
      namespace: OPERATOR_NAMESPACE,
      name: 'tributary-operator',
    });
    expect(deployment.spec?.replicas).toBe(2);
  });

  it.each([
    ['Deployment', 'tributary-operator'],
    ['StatefulSet', INTAKE_STATEFULSET.name],
  ])(
    'the pod template of %s %s is admitted under the restricted level (and a weakened one is not)',
    async (kind, name) => {
      const namespace = await core.readNamespace({ name: OPERATOR_NAMESPACE });
      expect(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      const workload =
        kind === 'Deployment'
          ? await apps.readNamespacedDeployment({ namespace: OPERATOR_NAMESPACE, name })
          : await apps.readNamespacedStatefulSet({ namespace: OPERATOR_NAMESPACE, name });
      const template = workload.spec?.template;
      if (template?.spec === undefined) throw new Error(`the ${kind} has no pod template`);
      // A StatefulSet's pod mounts the claims made from its claim templates.
      const claims =
        (workload.spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] })
          .volumeClaimTemplates ?? [];
      const spec = structuredClone(template.spec);
      spec.volumes = [
        ...(spec.volumes ?? []),
        ...claims.map((claim) => {
          const volume = claim.metadata?.name ?? '';
          return { name: volume, persistentVolumeClaim: { claimName: `${volume}-${name}-0` } };
        }),
      ];
      const pod = (podSpec: typeof spec): V1Pod => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${name}-template`, labels: template.metadata?.labels },
        spec: podSpec,
      });
      const dryRun = ['create', '--dry-run=server', '-n', OPERATOR_NAMESPACE, '-f', '-'];
      const admitted = await client.kubectl(dryRun, { input: JSON.stringify(pod(spec)) });
      expect(admitted.stderr).toBe('');
      expect(admitted.code).toBe(0);
      // The control: the same template without its container security context is refused.
      const weakened = structuredClone(spec);
      for (const container of weakened.containers) delete container.securityContext;
      const refused = await client.kubectl(dryRun, { input: JSON.stringify(pod(weakened)) });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('violates PodSecurity "restricted:latest"');
    },
  );

  it("binds the intake's claims to the volumes provided, and no replica starts before", async () => {
    const { namespace, name } = INTAKE_STATEFULSET;
    const statefulSet = await apps.readNamespacedStatefulSet({ namespace, name });
    expect(statefulSet.spec?.replicas).toBe(2);
    for (const claim of INTAKE_CLAIMS) {
      const bound = await waitFor(`claim ${claim} bound`, async () => {
        const pvc = await core.readNamespacedPersistentVolumeClaim({ namespace, name: claim });
        return pvc.status?.phase === 'Bound' ? pvc : undefined;
      });
      expect(bound.spec?.volumeName).toBe(claim);
      expect(bound.spec?.resources?.requests?.storage).toBe('1Gi');
    }
    // The control: a replica whose claim has no volume stays Pending, unscheduled.
    await kubectl(['scale', '-n', namespace, `statefulset/${name}`, '--replicas=3']);
    const third = `${name}-2`;
    await waitFor(`pod ${third} created`, async () =>
      (await core.listNamespacedPod({ namespace })).items.find((p) => p.metadata?.name === third),
    );
    const claim = await core.readNamespacedPersistentVolumeClaim({
      namespace,
      name: `data-${third}`,
    });
    expect(claim.status?.phase).toBe('Pending');
    const pod = await core.readNamespacedPod({ namespace, name: third });
    expect(pod.spec?.nodeName).toBeUndefined();
    await kubectl(['scale', '-n', namespace, `statefulset/${name}`, '--replicas=2']);
    await kubectl(['delete', '-n', namespace, `pvc/data-${third}`, '--wait=false']);
  });

  it('the intake replicas become Ready on their volumes (/readyz: the SQLite store open)', async () => {
    const { namespace, name } = INTAKE_STATEFULSET;
    await kubectl(['rollout', 'status', '-n', namespace, `statefulset/${name}`, '--timeout=90s']);
    const statefulSet = await apps.readNamespacedStatefulSet({ namespace, name });
    expect(statefulSet.status?.readyReplicas).toBe(2);
  });
});

describe('the Helm chart', () => {
  it('its rendered output applies cleanly with --server-side over the kubectl install', async () => {
    const rendered = helm([
      'template',
      RELEASE,
      CHART_DIR,
      '--namespace',
      OPERATOR_NAMESPACE,
      '--include-crds',
    ]);
    const out = await kubectl(
      ['apply', '--server-side', '--field-manager=helm-render', '-f', '-'],
      rendered,
    );
    expect(out).toContain('deployment.apps/tributary-operator serverside-applied');
  });

  it('helm install and uninstall a second release in its own namespace', async () => {
    const release = `acme-${randomBytes(2).toString('hex')}`;
    const namespace = `${release}-system`;
    helm([
      'install',
      release,
      CHART_DIR,
      '--namespace',
      namespace,
      '--create-namespace',
      // A second release in the cluster: the first owns the aggregated tenant ClusterRoles.
      '--set',
      'replicas=1,aggregatedClusterRoles.enabled=false',
    ]);
    try {
      const deployment = await apps.readNamespacedDeployment({
        namespace,
        name: `${release}-operator`,
      });
      expect(deployment.spec?.replicas).toBe(1);
      const status = JSON.parse(
        helm(['status', release, '--namespace', namespace, '--output', 'json']),
      ) as {
        info: { status: string };
      };
      expect(status.info.status).toBe('deployed');
    } finally {
      helm(['uninstall', release, '--namespace', namespace]);
      // Its operator pod watches every namespace: it must be gone before the next test.
      await podsGone(namespace);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
  });
});

describe('a Helm release watching some namespaces', () => {
  // The rendered chart scaled the kubectl-installed Deployment up; its pods watch every namespace.
  beforeAll(async () => {
    await installOperator(client);
  });

  it('has Roles only there, and its operator reconciles there with exactly them', async () => {
    const [teamA, teamB, other] = [await fresh('team'), await fresh('team'), await fresh('other')];
    const release = `scoped-${randomBytes(2).toString('hex')}`;
    const namespace = await createNamespace(client, `${release}-system`, RESTRICTED);
    const account = { namespace, name: `${release}-operator` };
    helm([
      'install',
      release,
      CHART_DIR,
      '--namespace',
      namespace,
      '--set',
      `watchNamespaces={${teamA.namespace},${teamB.namespace}},replicas=1,aggregatedClusterRoles.enabled=false`,
    ]);
    try {
      const as = `system:serviceaccount:${namespace}:${account.name}`;
      const can = async (...args: string[]) =>
        (await client.kubectl(['auth', 'can-i', '--as', as, ...args])).stdout.trim();
      expect(await can('list', 'integrations.tributary.dev', '-n', teamA.namespace)).toBe('yes');
      expect(await can('create', 'jobs', '-n', teamB.namespace)).toBe('yes');
      expect(await can('list', 'integrations.tributary.dev', '-n', other.namespace)).toBe('no');
      expect(await can('list', 'integrations.tributary.dev', '--all-namespaces')).toBe('no');

      // The release's own pod runs the operator (on the process node) as that ServiceAccount.
      await kubectl([
        'rollout',
        'status',
        '-n',
        namespace,
        `deployment/${account.name}`,
        '--timeout=120s',
      ]);
      for (const integrations of [teamA, teamB, other]) {
        await integrations.create('orders', { read: 2 });
      }
      await teamA.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
      await teamB.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
      expect((await other.get('orders')).status).toBeUndefined();
      const lease = await kubectl([
        'get',
        'lease',
        '-n',
        namespace,
        account.name,
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ]);
      expect(lease).toMatch(new RegExp(`^${account.name}-`));
    } finally {
      helm(['uninstall', release, '--namespace', namespace]);
      await podsGone(namespace);
    }
  });
});

describe('the operator, run as the installed ServiceAccount', () => {
  // The Deployment at 0 replicas: no installed replica competes with the process for the Lease.
  beforeAll(async () => {
    await installOperator(client);
  });

  it('reconciles an Integration to Ready, its sync Job pod admitted under restricted', async () => {
    operator = await OperatorProcess.start(client);
    await waitFor('the operator to be ready', async () =>
      (await operator?.get('/readyz'))?.status === 200 ? true : undefined,
    );
    const integrations = await fresh('install');
    await integrations.create('orders', { read: 3 });
    const ready = await integrations.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
    expect(ready.message).toContain('read 3');
    const [job] = await integrations.jobs('orders');
    expect(job?.status?.succeeded).toBe(1);
    await operator.stop();
  });

  it('watches only the namespaces it is given (WATCH_NAMESPACE=a,b)', async () => {
    const a = await fresh('watched');
    const b = await fresh('watched');
    const other = await fresh('unwatched');
    operator = await OperatorProcess.start(client, {
      namespace: `${a.namespace},${b.namespace}`,
      leaderElection: false,
    });
    for (const integrations of [a, b, other]) await integrations.create('orders', { read: 1 });
    await a.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
    await b.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
    expect((await other.get('orders')).status).toBeUndefined();
    expect(await other.jobs('orders')).toEqual([]);
    // Without leader election the only replica leads, and says so (the no-leader alert).
    expect((await operator.get('/metrics'))?.body).toMatch(/^tributary_leader 1$/m);
    await operator.stop();
  });
});
