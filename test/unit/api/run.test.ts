import { describe, expect, it } from 'vitest';
import {
  EffectivePolicy,
  ReconcilePolicySpec,
  isReservedPodKey,
  parseQuantity,
  resolvePolicy,
  type RunPolicy,
} from '../../../operator/api/index.ts';
import { JobLabel } from '../../../operator/controller/plan/job.ts';

const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { memory: '512Mi' },
};

describe('resolvePolicy: run', () => {
  const policy: RunPolicy = {
    resources: { requests: { cpu: '250m' }, limits: { cpu: '1', memory: '1Gi' } },
    serviceAccountName: 'integrations',
    nodeSelector: { pool: 'integrations' },
    podLabels: { team: 'payments' },
  };

  it.each<[string, RunPolicy | undefined, RunPolicy | undefined, RunPolicy]>([
    [
      'defaults: today’s requests and limit, no account',
      undefined,
      undefined,
      {
        resources: DEFAULT_RESOURCES,
      },
    ],
    [
      'the policy over the defaults, resources per quantity',
      policy,
      undefined,
      {
        ...policy,
        resources: {
          requests: { cpu: '250m', memory: '128Mi' },
          limits: { cpu: '1', memory: '1Gi' },
        },
      },
    ],
    [
      'an override over the policy; maps and lists replaced whole',
      policy,
      {
        nodeSelector: { zone: 'a' },
        serviceAccountName: 'sync',
        resources: { limits: { memory: '2Gi' } },
      },
      {
        ...policy,
        serviceAccountName: 'sync',
        nodeSelector: { zone: 'a' },
        resources: {
          requests: { cpu: '250m', memory: '128Mi' },
          limits: { cpu: '1', memory: '2Gi' },
        },
      },
    ],
    [
      'a limit below a raised request is raised to it',
      undefined,
      { resources: { requests: { memory: '1Gi', 'ephemeral-storage': '1Gi' } } },
      {
        resources: {
          requests: { cpu: '100m', memory: '1Gi', 'ephemeral-storage': '1Gi' },
          limits: { memory: '1Gi' },
        },
      },
    ],
  ])('%s', (_, run, override, expected) => {
    const resolved = resolvePolicy({ run }, override === undefined ? undefined : { run: override });
    expect(resolved.run).toEqual(expected);
    expect(EffectivePolicy.parse(resolved)).toEqual(resolved);
  });
});

describe('ReconcilePolicy.spec.run validation', () => {
  it.each<[string, unknown, string]>([
    [
      'an invalid quantity',
      { resources: { limits: { memory: '1 GB' } } },
      'run.resources.limits.memory',
    ],
    [
      'a quantity with a three-digit exponent',
      { resources: { requests: { cpu: '1e-125' } } },
      'run.resources.requests.cpu',
    ],
    [
      'a request above its limit',
      { resources: { requests: { cpu: '2' }, limits: { cpu: '500m' } } },
      'run.resources.requests.cpu',
    ],
    [
      'a bad toleration operator',
      { tolerations: [{ key: 'a', operator: 'In' }] },
      'run.tolerations.0.operator',
    ],
    [
      'a value with Exists',
      { tolerations: [{ key: 'a', operator: 'Exists', value: 'x' }] },
      'run.tolerations.0.value',
    ],
    ['an invalid label key', { podLabels: { 'bad key': 'x' } }, 'run.podLabels'],
    ['an invalid label value', { podLabels: { team: 'a b' } }, 'run.podLabels.team'],
    ['a label the operator sets', { podLabels: { [JobLabel.RunKind]: 'sync' } }, 'run.podLabels'],
    [
      'the managed-by label',
      { podLabels: { 'app.kubernetes.io/managed-by': 'me' } },
      'run.podLabels',
    ],
    ['an unknown affinity kind', { affinity: { nodeAfinity: {} } }, 'run.affinity'],
  ])('rejects %s, naming the field', (_, run, field) => {
    const result = ReconcilePolicySpec.safeParse({ run });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths?.some((path) => path.startsWith(field))).toBe(true);
  });

  it('reserves every label the operator sets on run pods', () => {
    for (const key of Object.values(JobLabel)) expect(isReservedPodKey(key), key).toBe(true);
    expect(isReservedPodKey('team')).toBe(false);
  });

  it.each([
    ['100m', 0.1],
    ['0.5', 0.5],
    ['128Mi', 128 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['1 GB', undefined],
    ['-1', undefined],
    ['1e18', 1e18],
    // Exbibytes, not an exponent (read as NaN, it made resolvePolicy throw on an admitted policy).
    ['16803Ei', 16803 * 2 ** 60],
    ['2E', 2e18],
    // The API server's parser spends minutes on such an exponent (a 504 on create).
    ['3563.22304972E-125786375', undefined],
    ['1e100', undefined],
  ])('reads the quantity %s', (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });
});

describe('resolutionError', () => {
  it('names the fields of a zod error, and passes other messages through', async () => {
    const { resolutionError } = await import('../../../operator/api/index.ts');
    const { z } = await import('zod');
    const parsed = z.object({ a: z.number() }).safeParse({ a: 'x' });
    expect(parsed.success).toBe(false);
    expect(resolutionError(parsed.error)).toMatch(/^a: /);
    expect(resolutionError(new Error('boom'))).toBe('boom');
    expect(resolutionError('plain')).toBe('plain');
  });
});
