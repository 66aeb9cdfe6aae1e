/**
 * The shipped policy examples (deploy/policies/) on a real API server: the
 * ValidatingAdmissionPolicy that restricts `spec.connector.image` to the registries a namespace's
 * annotation allows, and the NetworkPolicy for run pods, whose selector must match the labels
 * the operator puts on every run Job's pod.
 */
import { applyCrds } from '../../dev/cluster/operator.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { waitFor } from '../../dev/cluster/processes.ts';
import { jobLabels, type RunIntegration } from '../../operator/controller/plan/job.ts';
import { example, ROOT } from '../fixtures/manifests.ts';
import { cluster, createNamespace } from '../support/cluster.ts';

const client = cluster();
const policies = join(ROOT, 'deploy', 'policies');
const ALLOWED = 'tributary.dev/allowed-registries';

/** The custom-connector example with `image`, named `name`. */
function integration(name: string, image?: string): Record<string, unknown> {
  const object = example('Integration', 'netsuite-invoices') as {
    metadata: { name: string };
    spec: { connector?: { image: string } };
  };
  object.metadata.name = name;
  if (image === undefined) {
    const builtIn = example('Integration', 'carrier-shipments') as typeof object;
    builtIn.metadata.name = name;
    return builtIn;
  }
  if (object.spec.connector !== undefined) object.spec.connector.image = image;
  return object;
}

const create = (namespace: string, object: unknown) =>
  client.kubectl(['create', '-n', namespace, '-f', '-'], { input: stringify(object) });

let restricted: string;

beforeAll(async () => {
  const version = await client.kubectl(['version', '-o', 'json']);
  const server = (JSON.parse(version.stdout) as { serverVersion: { minor: string } }).serverVersion;
  // ValidatingAdmissionPolicy is GA (and its admission plugin on by default) from 1.30.
  expect(Number.parseInt(server.minor, 10)).toBeGreaterThanOrEqual(30);
  await applyCrds(client);
  const applied = await client.kubectl([
    'apply',
    '--server-side',
    '-f',
    join(policies, 'connector-images.yaml'),
  ]);
  expect(applied.code, applied.stderr).toBe(0);
  restricted = await createNamespace(client, 'images');
  const annotated = await client.kubectl([
    'annotate',
    'namespace',
    restricted,
    `${ALLOWED}=registry.example.com/connectors, ghcr.io/acme`,
  ]);
  expect(annotated.code, annotated.stderr).toBe(0);
});

// The policy binds every namespace: remove it before the next file runs, and wait until it no
// longer applies.
afterAll(async () => {
  await client.kubectl([
    'delete',
    '-f',
    join(policies, 'connector-images.yaml'),
    '--ignore-not-found',
  ]);
  await waitFor('the policy gone', async () => {
    const probe = integration('after', 'docker.io/evil/miner:1');
    const result = await client.kubectl(
      ['create', '--dry-run=server', '-n', restricted, '-f', '-'],
      { input: stringify(probe) },
    );
    return result.code === 0 ? true : undefined;
  });
});

describe('deploy/policies/connector-images.yaml', () => {
  it('rejects a connector image from a registry the namespace does not allow, with its message', async () => {
    // The API server compiles and starts enforcing a new policy within about a second.
    const refused = await waitFor('the policy enforced', async () => {
      const result = await create(restricted, integration('evil', 'docker.io/evil/miner:1'));
      return result.code === 0 ? undefined : result;
    });
    expect(refused.stderr).toContain('tributary-connector-images');
    expect(refused.stderr).toContain(
      `spec.connector.image docker.io/evil/miner:1 is not from a registry allowed in namespace ${restricted}`,
    );
    expect(refused.stderr).toContain('registry.example.com/connectors, ghcr.io/acme');
    // Only the first created object could slip through before enforcement; delete it if so.
    await client.kubectl(['delete', 'integration', 'evil', '-n', restricted, '--ignore-not-found']);
  });

  it('matches a prefix only at a path boundary', async () => {
    const result = await create(restricted, integration('lookalike', 'ghcr.io/acmeevil/x:1'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('is not from a registry allowed');
  });

  it.each([
    ['an allowed registry host', 'allowed-host', 'ghcr.io/acme/netsuite-connector:1.4.2'],
    ['an allowed repository prefix', 'allowed-prefix', 'registry.example.com/connectors/sap:2'],
    ['the built-in connector', 'built-in', undefined],
  ])('admits %s', async (_, name, image) => {
    const result = await create(restricted, integration(name, image));
    expect(result.code, result.stderr).toBe(0);
  });

  it('admits no custom connector in a namespace without the annotation, unless exempt', async () => {
    const plain = await createNamespace(client, 'images-none');
    const refused = await create(plain, integration('any', 'ghcr.io/acme/netsuite-connector:1'));
    expect(refused.stderr).toContain('(annotation tributary.dev/allowed-registries: none)');
    const exempt = await createNamespace(client, 'images-exempt', {
      'tributary.dev/connector-images': 'unrestricted',
    });
    const admitted = await create(exempt, integration('any', 'docker.io/any/image:1'));
    expect(admitted.code, admitted.stderr).toBe(0);
  });
});

describe('deploy/policies/run-pods-networkpolicy.yaml', () => {
  const file = join(policies, 'run-pods-networkpolicy.yaml');
  const policy = parse(readFileSync(file, 'utf8')) as {
    spec: { podSelector: { matchLabels: Record<string, string> } };
  };

  it('is accepted by the API server', async () => {
    const namespace = await createNamespace(client, 'netpol');
    const applied = await client.kubectl(['apply', '--server-side', '-n', namespace, '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    const stored = await client.kubectl([
      'get',
      'networkpolicy',
      'tributary-run-pods',
      '-n',
      namespace,
      '-o',
      'json',
    ]);
    expect(JSON.parse(stored.stdout)).toMatchObject({
      spec: { policyTypes: ['Ingress', 'Egress'] },
    });
  });

  it.each(['sync', 'drift-check'] as const)('selects the pods of %s Jobs', (kind) => {
    const run: RunIntegration = {
      metadata: { name: 'orders', namespace: 'team-a', uid: 'a1b2' },
      spec: integration('orders').spec as RunIntegration['spec'],
    };
    expect(jobLabels(run, kind, 1)).toMatchObject(policy.spec.podSelector.matchLabels);
  });
});
