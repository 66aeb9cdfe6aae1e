/**
 * The Helm chart: `helm lint` clean, its default render installs the same objects as
 * manifests/install.yaml, and with any values it renders what the cdk8s app renders from the
 * same values (manifests/src/values.ts is the one definition of both). values.schema.json
 * rejects bad values with a message naming the key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, installObjects, OPERATOR_NAMESPACE, RELEASE } from '../../manifests/src/app.ts';
import { defaultValues, parseValues, type InstallValuesInput } from '../../manifests/src/values.ts';
import { ROOT } from '../fixtures/manifests.ts';
import { runTool } from '../tools/tools.ts';
import { byKey, helmTemplate, parseObjects, type KubeObject } from './helm.ts';

/** What the chart cannot create: the namespace (`helm install --create-namespace`). */
const notNamespace = (object: KubeObject) => object.kind !== 'Namespace';

describe('helm lint', () => {
  test.each([
    ['default values', []],
    [
      'every option on',
      [
        '--set',
        'metrics.serviceMonitor.enabled=true,prometheusRule.enabled=true,grafanaDashboard.enabled=true',
      ],
    ],
    [
      'the intake on JetStream',
      ['--set', 'intake.store=jetstream,intake.jetstream.url=nats://nats.nats:4222'],
    ],
    ['the intake off', ['--set', 'intake.enabled=false']],
  ])('is clean with %s (--strict)', (_, extra) => {
    const result = runTool('helm', ['lint', CHART_DIR, '--strict', ...extra]);
    expect(result.stdout + result.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.code).toBe(0);
  });
});

describe('the default render', () => {
  test('installs the same objects as manifests/install.yaml, except the namespace', () => {
    const manifests = parseObjects(readFileSync(join(ROOT, 'manifests', 'install.yaml'), 'utf8'));
    const chart = helmTemplate(undefined, RELEASE, OPERATOR_NAMESPACE);
    expect(byKey(chart)).toEqual(byKey(manifests.filter(notNamespace)));
  });

  test('values.yaml holds exactly the defaults of values.schema.json', () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as unknown;
    expect(values).toEqual(defaultValues());
  });
});

/** Non-default values: each knob the chart offers, turned. */
const VALUE_SETS: [string, InstallValuesInput][] = [
  [
    'scheduling and identity',
    {
      fullnameOverride: 'integrations',
      image: {
        repository: 'registry.example.com/tributary',
        tag: '0.2.0-rc.1',
        pullPolicy: 'Always',
      },
      imagePullSecrets: [{ name: 'registry' }],
      replicas: 3,
      watchNamespaces: ['team-a', 'team-b'],
      logLevel: 'debug',
      workers: 8,
      kubeApi: { qps: 12.5, burst: 40 },
      flowSchema: { priorityLevel: 'workload-low', matchingPrecedence: 1200 },
      resources: {
        requests: { cpu: '250m', memory: '256Mi' },
        limits: { cpu: '1', memory: '1Gi' },
      },
      commonLabels: { 'example.com/team': 'platform' },
      podAnnotations: { 'example.com/scrape': 'true' },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' },
      ],
      priorityClassName: 'platform-critical',
    },
  ],
  [
    'monitoring on, optional objects off',
    {
      metrics: {
        port: 9090,
        serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus' } },
      },
      prometheusRule: { enabled: true, labels: { release: 'kube-prometheus' } },
      grafanaDashboard: { enabled: true },
      networkPolicy: { enabled: false },
      podDisruptionBudget: { enabled: false },
      flowSchema: { enabled: false },
    },
  ],
  [
    'the intake on JetStream, one replica, its knobs turned',
    {
      intake: {
        replicas: 1,
        store: 'jetstream',
        port: 9000,
        metricsPort: 9001,
        service: { port: 8080 },
        workers: 16,
        maxBodyBytes: 262144,
        jetstream: { url: 'nats://nats-0.nats:4222,nats://nats-1.nats:4222', stream: 'HOOKS' },
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
        terminationGracePeriodSeconds: 60,
        networkPolicy: {
          hooksFrom: [{ namespaceSelector: { matchLabels: { name: 'ingress-nginx' } } }],
          metricsFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }],
        },
      },
      metrics: { serviceMonitor: { enabled: true } },
      watchNamespaces: ['team-a'],
    },
  ],
  [
    'the intake on SQLite with a StorageClass, 3 replicas',
    { intake: { replicas: 3, sqlite: { size: '10Gi', storageClassName: 'fast-ssd' } } },
  ],
  [
    'the intake off',
    { intake: { enabled: false }, metrics: { serviceMonitor: { enabled: true } } },
  ],
  [
    'one replica, the pod settings turned, an existing ServiceAccount',
    {
      replicas: 1,
      podLabels: { 'example.com/cost-center': 'platform' },
      serviceAccount: { create: false, name: 'platform-operator' },
      podSecurityContext: { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
      securityContext: { capabilities: { drop: ['ALL', 'NET_RAW'] } },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'pool', operator: 'In', values: ['system'] }] },
            ],
          },
        },
      },
      extraEnv: [
        { name: 'HTTPS_PROXY', value: 'http://proxy.example.com:3128' },
        { name: 'TEAM', valueFrom: { configMapKeyRef: { name: 'team', key: 'name' } } },
      ],
      aggregatedClusterRoles: { enabled: false },
      watchNamespaces: ['team-a'],
    },
  ],
  [
    'a created ServiceAccount with a name and annotations, global values',
    {
      serviceAccount: {
        name: 'tributary',
        annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/tributary' },
      },
      global: { imageRegistry: 'registry.example.com' },
    },
  ],
];

describe.each(VALUE_SETS)('with %s', (_, values) => {
  test('the chart renders what the cdk8s app renders from the same values', () => {
    const target = { release: 'acme', namespace: 'integrations-system' };
    const chart = helmTemplate(values, target.release, target.namespace);
    const app = installObjects(parseValues(values), target) as KubeObject[];
    expect(byKey(chart)).toEqual(byKey(app.filter(notNamespace)));
  });
});

describe('intake.store=jetstream', () => {
  test('without intake.jetstream.url fails, naming the key', () => {
    const result = runTool('helm', [
      'template',
      RELEASE,
      CHART_DIR,
      '--set',
      'intake.store=jetstream',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('intake.jetstream.url is required');
  });
});

describe('values.schema.json', () => {
  test.each([
    ['replicas=0', 'replicas'],
    ['logLevel=loud', 'logLevel'],
    ['image.pullPolicy=Sometimes', 'pullPolicy'],
    ['metrics.port=80', 'port'],
    ['replica=2', 'replica'],
    ['intake.store=redis', '/intake/store'],
    ['intake.replicas=0', '/intake/replicas'],
    ['intake.metricsPort=80', '/intake/metricsPort'],
  ])('rejects --set %s naming %s', (set, key) => {
    const result = runTool('helm', ['template', RELEASE, CHART_DIR, '--set', set]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('values don');
    expect(result.stderr).toContain(key);
  });
});
