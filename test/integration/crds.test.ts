import { applyCrds } from '../../dev/cluster/operator.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { INVALID_CASES } from '../fixtures/invalid-objects.ts';
import { ROOT, exampleDocuments } from '../fixtures/manifests.ts';
import { cluster, createNamespace } from '../support/cluster.ts';

const client = cluster();
const crdDir = join(ROOT, 'crds');
let namespace: string;

beforeAll(async () => {
  await applyCrds(client);
  namespace = await createNamespace(client, 'crds');
});

/** Server-side dry-run apply of one object, as a user would with kubectl. */
const dryRunApply = (object: unknown) =>
  client.kubectl(['apply', '--server-side', '--dry-run=server', '-n', namespace, '-f', '-'], {
    input: stringify(object),
  });

describe('CRDs on a real API server', () => {
  it('are accepted by kubectl apply --dry-run=client', async () => {
    const result = await client.kubectl(['apply', '--dry-run=client', '-f', crdDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('integrations.tributary.dev');
    expect(result.stdout).toContain('reconcilepolicies.tributary.dev');
  });

  it.each(readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')))(
    'accept examples/%s with --server-side --dry-run=server',
    async (file) => {
      const result = await client.kubectl([
        'apply',
        '--server-side',
        '--dry-run=server',
        '-n',
        namespace,
        '-f',
        join(ROOT, 'examples', file),
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    },
  );

  const admissionCases = INVALID_CASES.filter((c) => c.rejectedBy === 'admission');
  it.each(admissionCases.map((c) => [c.name, c] as const))(
    'reject %s, naming the field',
    async (_, invalidCase) => {
      const result = await dryRunApply(invalidCase.object);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(invalidCase.field);
    },
  );

  const operatorCases = INVALID_CASES.filter((c) => c.rejectedBy === 'operator');
  it.each(operatorCases.map((c) => [c.name, c] as const))(
    'admit %s, which only the operator can judge',
    async (_, invalidCase) => {
      const result = await dryRunApply(invalidCase.object);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    },
  );

  it('explain the fields with their descriptions', async () => {
    const result = await client.kubectl(['explain', 'integration.spec.source']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Where records come from');
    expect(result.stdout).toMatch(/credentialsRef\s+<Object>/);
    expect(result.stdout).toContain('Required for stripe and shopify');
    const policy = await client.kubectl(['explain', 'reconcilepolicy.spec.retry.jitter']);
    expect(policy.stdout.replace(/\s+/g, ' ')).toContain('("full jitter")');
  });

  it('print READY, REASON, LAST SYNC, DRIFT, SUSPENDED and AGE in kubectl get', async () => {
    const stripe = exampleDocuments().find((d) => d.name === 'stripe-customers');
    const created = await client.kubectl(['apply', '-n', namespace, '-f', '-'], {
      input: stringify(stripe?.object),
    });
    expect(created.code, created.stderr).toBe(0);
    const result = await client.kubectl(['get', 'integ', '-n', namespace]);
    expect(result.code, result.stderr).toBe(0);
    expect(columns(result.stdout)[0]).toEqual([
      'NAME',
      'READY',
      'REASON',
      'LAST SYNC',
      'DRIFT',
      'SUSPENDED',
      'AGE',
    ]);
    expect(result.stdout).toContain('stripe-customers');
    const byCategory = await client.kubectl(['get', 'tributary', '-n', namespace]);
    expect(byCategory.stdout).toContain('integration.tributary.dev/stripe-customers');
  });

  it('show spec.suspend in SUSPENDED and keep NEXT SYNC and MESSAGE under -o wide', async () => {
    const stripe = exampleDocuments().find((d) => d.name === 'stripe-customers')?.object as {
      metadata: { name: string };
      spec: Record<string, unknown>;
    };
    const suspended = {
      ...stripe,
      metadata: { ...stripe.metadata, name: 'suspended-stripe' },
      spec: { ...stripe.spec, suspend: true },
    };
    const created = await client.kubectl(['apply', '-n', namespace, '-f', '-'], {
      input: stringify(suspended),
    });
    expect(created.code, created.stderr).toBe(0);
    const wide = await client.kubectl([
      'get',
      'integ',
      'suspended-stripe',
      '-n',
      namespace,
      '-o',
      'wide',
    ]);
    expect(wide.code, wide.stderr).toBe(0);
    const [header = [], row = []] = columns(wide.stdout);
    expect(header).toEqual([
      'NAME',
      'READY',
      'REASON',
      'LAST SYNC',
      'DRIFT',
      'SUSPENDED',
      'AGE',
      'NEXT SYNC',
      'MESSAGE',
    ]);
    const start = wide.stdout.split('\n')[0]?.indexOf('SUSPENDED') ?? -1;
    const line = wide.stdout.split('\n')[1] ?? '';
    expect(line.slice(start).split(/\s+/)[0]).toBe('true');
    expect(row[0]).toBe('suspended-stripe');
  });
});

/** The cells of kubectl's table output, split on runs of two or more spaces. */
function columns(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(/\s{2,}/).map((cell) => cell.trim()));
}
