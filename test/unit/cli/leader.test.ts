import { describe, expect, it } from 'vitest';
import { leaderDecision, type LeaderInputs } from '../../../operator/commands/leader.ts';

const base: LeaderInputs = {
  explicit: undefined,
  inCluster: false,
  leaseNamespace: undefined,
  contextNamespace: undefined,
  leaseName: 'tributary-operator',
};

describe('leader election for tributary operator', () => {
  it.each<[string, Partial<LeaderInputs>, boolean, string | undefined, string]>([
    [
      'outside a cluster, nothing known',
      {},
      false,
      undefined,
      'leader election off: running outside a cluster with no lease namespace',
    ],
    [
      'outside, --lease-namespace',
      { leaseNamespace: 'ops' },
      true,
      'ops',
      'leader election on: lease ops/tributary-operator',
    ],
    [
      'outside, the context names a namespace',
      { contextNamespace: 'dev' },
      true,
      'dev',
      'leader election on: lease dev/tributary-operator (namespace of the kubeconfig context)',
    ],
    [
      'outside, --lease-namespace over the context',
      { leaseNamespace: 'ops', contextNamespace: 'dev' },
      true,
      'ops',
      'leader election on: lease ops/tributary-operator',
    ],
    [
      'in a cluster with POD_NAMESPACE',
      { inCluster: true, leaseNamespace: 'tributary-system' },
      true,
      'tributary-system',
      'leader election on: lease tributary-system/tributary-operator',
    ],
    [
      'in a cluster, the context namespace is not used',
      { inCluster: true, contextNamespace: 'dev' },
      true,
      undefined,
      'leader election on',
    ],
    [
      '--leader-elect=false anywhere',
      { inCluster: true, leaseNamespace: 'x', explicit: false },
      false,
      'x',
      'leader election off: --leader-elect=false',
    ],
    [
      '--leader-elect=true outside with a namespace',
      { explicit: true, contextNamespace: 'dev' },
      true,
      'dev',
      'leader election on: lease dev/',
    ],
  ])('%s', (_, inputs, on, namespace, message) => {
    const decision = leaderDecision({ ...base, ...inputs });
    expect(decision.leaderElection).toBe(on);
    expect(decision.leaseNamespace).toBe(namespace);
    expect(decision.message).toContain(message);
  });
});
