import { describe, expect, it } from 'vitest';
import type { ReconcilePolicyStatus } from '../../../../operator/api/index.ts';
import type { ReconcileContext } from '../../../../operator/controller/machinery/controller.ts';
import {
  PolicyReconciler,
  type PolicyPorts,
} from '../../../../operator/controller/policy/reconciler.ts';
import { example } from '../../../fixtures/manifests.ts';
import { FakeClock } from '../../../support/fake-clock.ts';
import { silentLogger } from '../machinery/support.ts';

/** Named instants. */
const T = {
  /** The first reconcile. */
  first: new Date('2026-01-05T10:00:00Z'),
  /** A later reconcile. */
  later: new Date('2026-01-05T11:00:00Z'),
} as const;

const NAMESPACE = 'payments';

/** An in-memory policy port: stored policies, usage counts, and the status writes made. */
class FakePolicies implements PolicyPorts {
  readonly stored = new Map<string, Record<string, unknown>>();
  readonly users = new Map<string, number>();
  readonly writes: { name: string; status: ReconcilePolicyStatus }[] = [];

  policy(_namespace: string, name: string): unknown {
    const policy = this.stored.get(name);
    return policy === undefined ? undefined : structuredClone(policy);
  }

  usedBy(_namespace: string, name: string): number {
    return this.users.get(name) ?? 0;
  }

  updateStatus(object: { name: string }, status: ReconcilePolicyStatus): Promise<void> {
    const stored = this.stored.get(object.name);
    if (stored) stored.status = JSON.parse(JSON.stringify(status)) as ReconcilePolicyStatus;
    this.writes.push({ name: object.name, status });
    return Promise.resolve();
  }
}

type PolicySpec = { retry: { jitter: string } };

function policy(name: string, change: (spec: PolicySpec) => void = () => undefined) {
  const object = example('ReconcilePolicy', 'standard');
  const metadata = object.metadata as Record<string, unknown>;
  Object.assign(metadata, { name, namespace: NAMESPACE, generation: 1, resourceVersion: '1' });
  change(object.spec as PolicySpec);
  return object;
}

function setup() {
  const ports = new FakePolicies();
  const clock = new FakeClock(T.first.getTime());
  const reconciler = new PolicyReconciler(ports, clock);
  const ctx: ReconcileContext = { log: silentLogger(), signal: new AbortController().signal };
  return {
    ports,
    clock,
    reconcile: (name: string) => reconciler.reconcile(`${NAMESPACE}/${name}`, ctx),
  };
}

interface Row {
  name: string;
  policy: Record<string, unknown>;
  users: number;
  ready: { status: string; reason: string; message?: RegExp };
}

const rows: Row[] = [
  {
    name: 'a valid policy is Ready and counts its users',
    policy: policy('standard'),
    users: 3,
    ready: { status: 'True', reason: 'Succeeded', message: /^the policy is valid$/ },
  },
  {
    name: 'a policy that fails validation is not Ready and names the field',
    policy: policy('broken', (spec) => {
      spec.retry.jitter = 'Sometimes';
    }),
    users: 1,
    ready: {
      status: 'False',
      reason: 'InvalidSpec',
      message: /^the policy is invalid: spec\.retry\.jitter/,
    },
  },
  {
    name: 'a policy no Integration uses yet is Ready with a count of 0',
    policy: policy('unused'),
    users: 0,
    ready: { status: 'True', reason: 'Succeeded' },
  },
];

describe('PolicyReconciler', () => {
  it.each(rows)('$name', async (row) => {
    const { ports, reconcile } = setup();
    const name = (row.policy.metadata as { name: string }).name;
    ports.stored.set(name, row.policy);
    ports.users.set(name, row.users);

    expect(await reconcile(name)).toEqual({});

    expect(ports.writes).toHaveLength(1);
    const status = ports.writes[0]?.status;
    expect(status).toMatchObject({ observedGeneration: 1, integrationCount: row.users });
    const ready = status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: row.ready.status, reason: row.ready.reason });
    if (row.ready.message) expect(ready?.message).toMatch(row.ready.message);
  });

  it('writes nothing when nothing changed, and again when the usage count does', async () => {
    const { ports, clock, reconcile } = setup();
    ports.stored.set('standard', policy('standard'));
    ports.users.set('standard', 1);
    await reconcile('standard');
    await clock.advance(T.later.getTime() - T.first.getTime());

    await reconcile('standard');
    expect(ports.writes).toHaveLength(1);

    ports.users.set('standard', 2);
    await reconcile('standard');
    expect(ports.writes).toHaveLength(2);
    // Ready did not change: its lastTransitionTime stays at the first reconcile.
    const ready = ports.writes[1]?.status.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.lastTransitionTime).toBe('2026-01-05T10:00:00Z');
  });

  it('ignores a policy that is gone', async () => {
    const { ports, reconcile } = setup();
    expect(await reconcile('not-there')).toEqual({});
    expect(ports.writes).toEqual([]);
  });
});
