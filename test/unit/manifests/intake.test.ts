/**
 * The webhook intake as installed (manifests/src/intake.ts, intake-rbac.ts): the pods the
 * operator finds by label, the restricted Pod Security profile, exactly the RBAC it needs, a
 * PodDisruptionBudget that never blocks a drain, both stores, and who may reach which port.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { installObjects } from '../../../manifests/src/app.ts';
import { INTAKE_DATA_DIR, RUN_POD_LABELS } from '../../../manifests/src/intake.ts';
import { parseValues, type InstallValuesInput } from '../../../manifests/src/values.ts';
import { JobLabel } from '../../../operator/controller/plan/job.ts';
import { ROOT } from '../../fixtures/manifests.ts';

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  roleRef?: { name: string };
  subjects?: { name: string; namespace: string }[];
}
interface Container {
  args: string[];
  env: { name: string; value?: string }[];
  ports: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  terminationGracePeriodSeconds: number;
  containers: Container[];
  volumes: Record<string, unknown>[];
  affinity: { podAntiAffinity: Record<string, unknown> };
}
interface StatefulSetSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  volumeClaimTemplates?: { metadata: { name: string }; spec: Record<string, unknown> }[];
}

/** The committed install. */
const shipped = parseAllDocuments(readFileSync(join(ROOT, 'manifests', 'install.yaml'), 'utf8'))
  .map((doc) => doc.toJS() as KubeObject)
  .filter((o) => o.metadata.name.endsWith('-intake') || o.metadata.name.includes('-intake-'));

function render(values: InstallValuesInput = {}): KubeObject[] {
  return installObjects(parseValues(values)) as unknown as KubeObject[];
}
const find = (objects: KubeObject[], kind: string, name = 'tributary-intake') =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
function statefulSet(objects: KubeObject[]): StatefulSetSpec {
  const object = find(objects, 'StatefulSet');
  if (object === undefined) throw new Error('no intake StatefulSet');
  return object.spec as unknown as StatefulSetSpec;
}
const container = (objects: KubeObject[]) => statefulSet(objects).template.spec.containers[0];
const env = (objects: KubeObject[]) =>
  Object.fromEntries((container(objects)?.env ?? []).map((e) => [e.name, e.value]));

describe('the shipped intake', () => {
  it('is a StatefulSet of 2 replicas, its Services, PDB, NetworkPolicy, ServiceAccount and RBAC', () => {
    expect(shipped.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      'ClusterRole tributary-intake',
      'ClusterRoleBinding tributary-intake',
      'NetworkPolicy tributary-intake',
      'PodDisruptionBudget tributary-intake',
      'Service tributary-intake',
      'Service tributary-intake-metrics',
      'ServiceAccount tributary-intake',
      'StatefulSet tributary-intake',
    ]);
    expect(statefulSet(shipped).replicas).toBe(2);
  });

  it('runs pods the operator finds by app.kubernetes.io/name=tributary,component=intake', () => {
    const { selector, template } = statefulSet(shipped);
    const wanted = {
      'app.kubernetes.io/name': 'tributary',
      'app.kubernetes.io/component': 'intake',
    };
    expect(selector.matchLabels).toMatchObject(wanted);
    expect(template.metadata.labels).toMatchObject(wanted);
    // The operator's own pods do not match that selector.
    const operator = find(render(), 'Deployment', 'tributary-operator');
    const operatorLabels = (operator?.spec as unknown as StatefulSetSpec).template.metadata.labels;
    expect(operatorLabels['app.kubernetes.io/component']).toBe('operator');
  });

  it('runs `tributary intake` of the operator image with the command line of the brief', () => {
    const { image } = (
      find(render(), 'Deployment', 'tributary-operator')?.spec as unknown as StatefulSetSpec
    ).template.spec.containers[0] as unknown as { image: string };
    const intake = container(shipped) as unknown as Container & { image: string };
    expect(intake.image).toBe(image);
    expect(intake.args).toEqual(['intake']);
    expect(env(shipped)).toEqual({
      POD_NAMESPACE: undefined,
      POD_NAME: undefined,
      INTAKE_PORT: '8090',
      METRICS_PORT: '8081',
      INTAKE_STORE: 'sqlite',
      INTAKE_DATA_DIR: '/var/lib/tributary-intake',
      WORKERS: '4',
      INTAKE_MAX_BODY_BYTES: '1048576',
      LOG_LEVEL: 'info',
    });
    expect(intake.ports).toEqual([
      { name: 'hooks', containerPort: 8090, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect(intake.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(intake.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
  });

  it('meets the restricted Pod Security profile', () => {
    const { spec } = statefulSet(shipped).template;
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.securityContext.runAsUser).not.toBe(0);
    expect(container(shipped)?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    // Only volume types restricted allows: emptyDir here, the claim from the template.
    expect(spec.volumes.map((v) => Object.keys(v).sort())).toEqual([['emptyDir', 'name']]);
  });

  it('spreads its replicas across nodes (preferred) and lets in-flight requests finish', () => {
    const { spec } = statefulSet(shipped).template;
    expect(Object.keys(spec.affinity.podAntiAffinity)).toEqual([
      'preferredDuringSchedulingIgnoredDuringExecution',
    ]);
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(5);
  });

  it('hooks Service port 80 to the hooks port; headless metrics Service on the metrics port', () => {
    const hooks = find(shipped, 'Service')?.spec as { ports: unknown[] };
    expect(hooks.ports).toEqual([
      { name: 'hooks', port: 80, targetPort: 'hooks', protocol: 'TCP' },
    ]);
    const metrics = find(shipped, 'Service', 'tributary-intake-metrics')?.spec as {
      clusterIP: string;
      ports: unknown[];
    };
    expect(metrics.clusterIP).toBe('None');
    expect(metrics.ports).toEqual([
      { name: 'metrics', port: 8081, targetPort: 'metrics', protocol: 'TCP' },
    ]);
  });
});

describe('the intake RBAC', () => {
  it('is exactly: read Integrations, get Secrets by name', () => {
    expect(find(shipped, 'ClusterRole')?.rules).toEqual([
      {
        apiGroups: ['tributary.dev'],
        resources: ['integrations'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    ]);
    const binding = find(shipped, 'ClusterRoleBinding');
    expect(binding?.roleRef?.name).toBe('tributary-intake');
    expect(binding?.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'tributary-intake', namespace: 'tributary-system' },
    ]);
    expect(statefulSet(shipped).template.spec.serviceAccountName).toBe('tributary-intake');
  });

  it('can never list or watch Secrets, in any namespace', () => {
    for (const values of [{}, { watchNamespaces: ['team-a'] }]) {
      const rules = render(values)
        .filter((o) => o.metadata.name === 'tributary-intake' && o.rules !== undefined)
        .flatMap((o) => o.rules ?? []);
      expect(rules.length).toBeGreaterThan(0);
      const secretVerbs = rules
        .filter((rule) => rule.resources.includes('secrets') || rule.resources.includes('*'))
        .flatMap((rule) => rule.verbs);
      expect(secretVerbs).toEqual(['get']);
    }
  });

  it('watching some namespaces: a Role in each, nothing cluster-wide, WATCH_NAMESPACE set', () => {
    const objects = render({ watchNamespaces: ['team-a', 'team-b'] });
    const roles = objects.filter((o) => o.metadata.name === 'tributary-intake' && o.rules);
    expect(roles.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}`)).toEqual([
      'Role team-a',
      'Role team-b',
    ]);
    expect(env(objects).WATCH_NAMESPACE).toBe('team-a,team-b');
  });
});

describe('the intake PodDisruptionBudget', () => {
  it.each([
    [1, undefined],
    [2, 1],
    [3, 1],
  ])('with %i replicas: minAvailable %s, never all of them', (replicas, minAvailable) => {
    const pdb = find(render({ intake: { replicas } }), 'PodDisruptionBudget');
    expect((pdb?.spec as { minAvailable?: number } | undefined)?.minAvailable).toBe(minAvailable);
    if (minAvailable !== undefined) expect(minAvailable).toBeLessThan(replicas);
  });
});

describe('the intake stores', () => {
  it('sqlite: a claim per replica (size, class) mounted at the data dir', () => {
    const objects = render({ intake: { sqlite: { size: '5Gi', storageClassName: 'fast' } } });
    expect(statefulSet(objects).volumeClaimTemplates).toEqual([
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'fast',
          volumeMode: 'Filesystem',
          resources: { requests: { storage: '5Gi' } },
        },
        status: { phase: 'Pending' },
      },
    ]);
    expect(container(objects)?.volumeMounts).toContainEqual({
      name: 'data',
      mountPath: INTAKE_DATA_DIR,
    });
    expect(env(objects).INTAKE_DATA_DIR).toBe(INTAKE_DATA_DIR);
  });

  it('jetstream: no claim, no data volume, NATS_URL and NATS_STREAM from the values', () => {
    const url = 'nats://nats-0.nats:4222,nats://nats-1.nats:4222';
    const objects = render({ intake: { store: 'jetstream', jetstream: { url, stream: 'HOOKS' } } });
    expect(statefulSet(objects).volumeClaimTemplates).toBeUndefined();
    expect(container(objects)?.volumeMounts.map((m) => m.name)).toEqual(['tmp']);
    expect(env(objects)).toMatchObject({
      INTAKE_STORE: 'jetstream',
      NATS_URL: url,
      NATS_STREAM: 'HOOKS',
    });
    expect(env(objects)).not.toHaveProperty('INTAKE_DATA_DIR');
  });

  it('jetstream without a URL is refused, naming the key', () => {
    expect(() => parseValues({ intake: { store: 'jetstream' } })).toThrow(/intake\.jetstream\.url/);
  });
});

describe('the intake NetworkPolicy', () => {
  type Rule = { from?: Record<string, unknown>[]; ports: { port: number }[] };
  const ingress = (objects: KubeObject[]) =>
    (find(objects, 'NetworkPolicy')?.spec as { ingress: Rule[] }).ingress;

  it('lets anyone reach the hooks port, and only the operator, run pods and monitoring the metrics port', () => {
    const [hooks, metrics] = ingress(shipped);
    expect(hooks).toEqual({ ports: [{ protocol: 'TCP', port: 8090 }] });
    expect(metrics?.ports).toEqual([{ protocol: 'TCP', port: 8081 }]);
    expect(metrics?.from).toEqual([
      {
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/name': 'tributary',
            'app.kubernetes.io/instance': 'tributary',
            'app.kubernetes.io/component': 'operator',
          },
        },
      },
      { namespaceSelector: {}, podSelector: { matchLabels: RUN_POD_LABELS } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
  });

  it("run pods are recognised by the label every run Job's pod carries", () => {
    expect(RUN_POD_LABELS).toEqual({ [JobLabel.ManagedBy]: 'tributary' });
  });

  it('narrows the hooks port to intake.networkPolicy.hooksFrom', () => {
    const ingressController = { namespaceSelector: { matchLabels: { name: 'ingress-nginx' } } };
    const [hooks] = ingress(
      render({ intake: { networkPolicy: { hooksFrom: [ingressController] } } }),
    );
    expect(hooks?.from).toEqual([ingressController]);
  });
});

describe('intake.enabled: false', () => {
  it('installs no intake object', () => {
    const names = render({ intake: { enabled: false } }).map((o) => o.metadata.name);
    expect(names.filter((name) => name.includes('intake'))).toEqual([]);
  });
});
