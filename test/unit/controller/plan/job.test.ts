import type { V1Container, V1Job, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  Integration,
  ReconcilePolicy,
  resolvePolicy,
  type EffectivePolicy,
  type RunKind,
  type RunPolicy,
} from '../../../../operator/api/index.ts';
import {
  buildJob,
  buildRunInput,
  JobAnnotation,
  JobLabel,
  type BuildJobInput,
  type RunIntegration,
} from '../../../../operator/controller/plan/job.ts';
import { parseRunInput, RunEnv } from '../../../../operator/api/run-input.ts';
import { example } from '../../../fixtures/manifests.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const OPERATOR_IMAGE = 'ghcr.io/tributary/tributary:0.1.0';
const due = new Date('2026-01-05T10:00:00Z');

/** An example Integration as the API would return it, with its resolved policy. */
function stored(name: string): { integration: RunIntegration; policy: EffectivePolicy } {
  const parsed = Integration.parse(example('Integration', name));
  const policyName = parsed.spec.policyRef?.name;
  const policy =
    policyName === undefined
      ? undefined
      : ReconcilePolicy.parse(example('ReconcilePolicy', policyName)).spec;
  return {
    integration: {
      metadata: { ...parsed.metadata, namespace: 'payments', uid: `uid-${name}`, generation: 4 },
      spec: parsed.spec,
    },
    policy: resolvePolicy(policy, parsed.spec.overrides),
  };
}

function input(name: string, overrides: Partial<BuildJobInput> = {}): BuildJobInput {
  return {
    ...stored(name),
    kind: 'sync',
    dueTime: due,
    attempt: 1,
    operatorImage: OPERATOR_IMAGE,
    ...overrides,
  };
}

function pod(job: V1Job): V1PodSpec {
  const spec = job.spec?.template.spec;
  if (spec === undefined) throw new Error('no pod spec');
  return spec;
}

function connector(job: V1Job): V1Container {
  const [first, ...rest] = pod(job).containers;
  if (first === undefined || rest.length > 0) throw new Error('expected one container');
  return first;
}

const envValue = (job: V1Job, name: string) => connector(job).env?.find((e) => e.name === name);

/** What the `restricted` Pod Security Standard (v1.30+) checks, as a list of violations. */
function restrictedViolations(spec: V1PodSpec): string[] {
  const violations: string[] = [];
  if (spec.hostNetwork === true || spec.hostPID === true || spec.hostIPC === true) {
    violations.push('host namespaces');
  }
  if (spec.securityContext?.runAsNonRoot !== true) violations.push('runAsNonRoot');
  if (spec.securityContext?.runAsUser === 0) violations.push('runAsUser 0');
  if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') violations.push('seccomp');
  for (const volume of spec.volumes ?? []) {
    const kinds = Object.keys(volume).filter((key) => key !== 'name');
    const allowed = ['emptyDir', 'secret', 'configMap', 'projected', 'downwardAPI'];
    if (!kinds.every((kind) => allowed.includes(kind))) violations.push(`volume ${volume.name}`);
  }
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const context = c.securityContext;
    if (context?.privileged === true) violations.push(`${c.name}: privileged`);
    if (context?.allowPrivilegeEscalation !== false) violations.push(`${c.name}: escalation`);
    if (!(context?.capabilities?.drop ?? []).includes('ALL')) violations.push(`${c.name}: drop`);
    if ((context?.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE')) {
      violations.push(`${c.name}: add`);
    }
    if (context?.runAsUser === 0) violations.push(`${c.name}: runAsUser 0`);
    if ((c.ports ?? []).some((port) => port.hostPort !== undefined)) violations.push('hostPort');
  }
  return violations;
}

const examples = ['stripe-customers', 'shopify-orders', 'carrier-shipments', 'netsuite-invoices'];
const kinds = ['sync', 'drift-check'] as const;

describe.each(examples)('buildJob for the example %s', (name) => {
  it.each(kinds)('is deterministic (%s)', (kind) => {
    expect(buildJob(input(name, { kind }))).toEqual(buildJob(input(name, { kind })));
  });

  it('runs one pod once, with the run timeout as deadline and no TTL', () => {
    const job = buildJob(input(name));
    expect(job.spec?.backoffLimit).toBe(0);
    expect(pod(job).restartPolicy).toBe('Never');
    expect(job.spec?.ttlSecondsAfterFinished).toBeUndefined();
    const run = stored(name).policy.timeouts.run;
    expect(job.spec?.activeDeadlineSeconds).toBe({ '30m': 1800, '4h': 14400 }[run]);
  });

  it('passes the restricted Pod Security Standard and mounts no token', () => {
    const spec = pod(buildJob(input(name)));
    expect(restrictedViolations(spec)).toEqual([]);
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.enableServiceLinks).toBe(false);
    expect(connector(buildJob(input(name))).securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(connector(buildJob(input(name))).volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
    ]);
  });

  it('is owned by its Integration and labelled for selection', () => {
    const job = buildJob(input(name, { kind: 'drift-check', attempt: 2 }));
    expect(job.metadata?.namespace).toBe('payments');
    expect(job.metadata?.name).toBe(`${name}-d-1767607200-2`);
    expect(job.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'tributary.dev/v1alpha1',
        kind: 'Integration',
        name,
        uid: `uid-${name}`,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const labels = {
      'tributary.dev/integration': name,
      'tributary.dev/integration-uid': `uid-${name}`,
      'tributary.dev/run-kind': 'drift-check',
      'tributary.dev/attempt': '2',
      'app.kubernetes.io/managed-by': 'tributary',
      'app.kubernetes.io/name': 'tributary-connector',
    };
    expect(job.metadata?.labels).toEqual(labels);
    // The pod also carries the policy's run.podLabels (the nightly policy sets one).
    const podLabels = input(name).policy.run?.podLabels;
    expect(job.spec?.template.metadata?.labels).toEqual({ ...podLabels, ...labels });
    expect(job.metadata?.annotations).toEqual({
      [JobAnnotation.DueTime]: '2026-01-05T10:00:00Z',
      [JobAnnotation.Attempt]: '2',
    });
  });

  it.each(kinds)('hands over credentials only as secretKeyRefs (%s)', (kind) => {
    const { integration } = stored(name);
    const job = buildJob(input(name, { kind }));
    const env = connector(job).env ?? [];
    for (const variable of env) {
      if (variable.name === RunEnv.JobName) {
        expect(variable.valueFrom).toEqual({
          fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" },
        });
      } else if (variable.valueFrom !== undefined) {
        expect(Object.keys(variable.valueFrom)).toEqual(['secretKeyRef']);
        expect(variable.name).toMatch(/_CREDENTIALS$/);
      }
      if (variable.name.endsWith('_CREDENTIALS')) expect(variable.value).toBeUndefined();
    }
    expect(envValue(job, RunEnv.SourceCredentials)?.valueFrom?.secretKeyRef).toEqual(
      integration.spec.source?.credentialsRef,
    );
    expect(envValue(job, RunEnv.DestinationCredentials)?.valueFrom?.secretKeyRef).toEqual(
      integration.spec.destination?.credentialsRef,
    );
    expect(envValue(job, RunEnv.RunKind)?.value).toBe(kind);
    expect(envValue(job, RunEnv.ResultPath)?.value).toBe('/dev/termination-log');
    expect(connector(job).terminationMessagePath).toBe('/dev/termination-log');
    expect(connector(job).terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('passes the run input as a valid TRIBUTARY_RUN document', () => {
    const built = input(name, { kind: 'drift-check', attempt: 3, checkpoint: 'cus_123' });
    const parsed = parseRunInput(envValue(buildJob(built), RunEnv.Run)?.value);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem));
    expect(parsed.input).toEqual(JSON.parse(JSON.stringify(buildRunInput(built))));
    expect(parsed.input).toMatchObject({
      version: 'tributary.dev/run/v1',
      kind: 'drift-check',
      attempt: 3,
      dueTime: '2026-01-05T10:00:00Z',
      integration: { namespace: 'payments', name, uid: `uid-${name}`, generation: 4 },
      policy: built.policy,
      checkpoint: 'cus_123',
    });
    expect(parsed.input.source).toEqual(built.integration.spec.source);
    expect(parsed.input.destination).toEqual(built.integration.spec.destination);
  });
});

describe('buildJob containers', () => {
  it.each(kinds)('runs the built-in connector from the operator image (%s)', (kind) => {
    const c = connector(buildJob(input('stripe-customers', { kind })));
    expect(c.image).toBe(OPERATOR_IMAGE);
    expect(c.args).toEqual([kind]);
    expect(c.command).toBeUndefined();
  });

  it.each(kinds)('runs a custom connector with its own args (%s)', (kind) => {
    const job = buildJob(input('netsuite-invoices', { kind }));
    const c = connector(job);
    expect(c.image).toBe('ghcr.io/acme/netsuite-connector:1.4.2');
    expect(c.args).toEqual(['--subsidiary', '3']);
    expect(c.command).toBeUndefined();
    const parsed = parseRunInput(envValue(job, RunEnv.Run)?.value);
    expect(parsed.ok && parsed.input.connector).toEqual({
      config: { subsidiary: 3, recordType: 'invoice' },
    });
  });

  it('sets the custom command when given', () => {
    const base = input('netsuite-invoices');
    const spec = { ...base.integration.spec };
    spec.connector = { image: 'ghcr.io/acme/x:1', command: ['/bin/connector', 'run'] };
    const c = connector(buildJob({ ...base, integration: { ...base.integration, spec } }));
    expect(c.command).toEqual(['/bin/connector', 'run']);
    expect(c.args).toBeUndefined();
  });

  it('uses the default resources and the namespace default account without its token', () => {
    const job = buildJob(input('stripe-customers'));
    expect(connector(job).resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
    expect(pod(job).serviceAccountName).toBeUndefined();
    expect(pod(job).automountServiceAccountToken).toBe(false);
  });
});

describe('buildJob with run settings', () => {
  const run: RunPolicy = {
    resources: {
      requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '1Gi' },
      limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '2Gi' },
    },
    serviceAccountName: 'integrations',
    imagePullSecrets: [{ name: 'registry' }],
    nodeSelector: { pool: 'integrations' },
    tolerations: [
      { key: 'dedicated', operator: 'Equal', value: 'integrations', effect: 'NoSchedule' },
    ],
    affinity: {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
    },
    priorityClassName: 'batch-low',
    podLabels: { team: 'payments' },
    podAnnotations: { 'example.com/cost-center': '42' },
  };
  const withRun = (kind: RunKind) => {
    const base = input('stripe-customers', { kind });
    return buildJob({ ...base, policy: resolvePolicy({ run }, undefined) });
  };

  it.each<[string, (job: V1Job) => unknown, unknown]>([
    ['resources', (job) => connector(job).resources, run.resources],
    ['serviceAccountName', (job) => pod(job).serviceAccountName, 'integrations'],
    ['imagePullSecrets', (job) => pod(job).imagePullSecrets, [{ name: 'registry' }]],
    ['nodeSelector', (job) => pod(job).nodeSelector, run.nodeSelector],
    ['tolerations', (job) => pod(job).tolerations, run.tolerations],
    ['affinity', (job) => pod(job).affinity, run.affinity],
    ['priorityClassName', (job) => pod(job).priorityClassName, 'batch-low'],
    ['podLabels', (job) => job.spec?.template.metadata?.labels?.team, 'payments'],
    ['podAnnotations', (job) => job.spec?.template.metadata?.annotations, run.podAnnotations],
  ])('puts %s in the pod of sync and drift-check Jobs', (_, read, expected) => {
    expect(read(withRun('sync'))).toEqual(expected);
    expect(read(withRun('drift-check'))).toEqual(expected);
  });

  it('keeps the operator labels, the token unmounted and the pod restricted', () => {
    const job = withRun('drift-check');
    expect(job.spec?.template.metadata?.labels).toMatchObject(job.metadata?.labels ?? {});
    expect(job.metadata?.labels?.team).toBeUndefined();
    expect(pod(job).automountServiceAccountToken).toBe(false);
    expect(restrictedViolations(pod(job))).toEqual([]);
  });
});

describe('buildJob with long names', () => {
  const longName = `${'payments.'.repeat(27)}stripe`.slice(0, 253);

  it.each([64, 120, 253])('produces a valid name and labels for a %i-character name', (length) => {
    const base = input('stripe-customers');
    const name = longName.slice(0, length).replace(/[.]+$/, 'x');
    const metadata = { ...base.integration.metadata, name };
    const job = buildJob({ ...base, integration: { ...base.integration, metadata } });
    expect(job.metadata?.name?.length).toBeLessThanOrEqual(63);
    expect(job.metadata?.name).toMatch(DNS_LABEL);
    for (const [key, value] of Object.entries(job.metadata?.labels ?? {})) {
      expect(value.length, key).toBeLessThanOrEqual(63);
      expect(value, key).toMatch(LABEL_VALUE);
    }
    expect(job.metadata?.labels?.[JobLabel.Integration]).not.toBe(name);
    expect(job.metadata?.ownerReferences?.[0]?.name).toBe(name);
    const run = parseRunInput(envValue(job, RunEnv.Run)?.value);
    expect(run.ok && run.input.integration.name).toBe(name);
  });
});
