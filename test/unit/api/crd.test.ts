import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCustomResourceDefinitions } from '../../../operator/api/render.ts';
import { ROOT } from '../../fixtures/manifests.ts';

type Node = Record<string, unknown>;

/** Every schema node under `node` with its path, descending into properties, items and maps. */
function* schemaNodes(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    yield* schemaNodes(child, `${path}.${name}`);
  }
  if (typeof node.items === 'object') yield* schemaNodes(node.items as Node, `${path}[]`);
  if (typeof node.additionalProperties === 'object') {
    yield* schemaNodes(node.additionalProperties as Node, `${path}{}`);
  }
}

const rendered = renderCustomResourceDefinitions();

function versionSchema(file: string): Node {
  const crd = parse(rendered.get(file) ?? '') as {
    spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
  };
  const version = crd.spec.versions[0];
  if (version === undefined) throw new Error(`${file} has no version`);
  return version.schema.openAPIV3Schema;
}

describe.each([...rendered.keys()])('%s', (file) => {
  const root = versionSchema(file);
  const properties = root.properties as Record<string, Node>;
  const nodes = [
    ...schemaNodes(properties.spec as Node, 'spec'),
    ...schemaNodes(properties.status as Node, 'status'),
  ];

  it('is committed as generated (run `npm run generate`)', () => {
    expect(readFileSync(join(ROOT, 'crds', file), 'utf8')).toBe(rendered.get(file));
  });

  it('renders the same bytes every time', () => {
    expect(renderCustomResourceDefinitions().get(file)).toBe(rendered.get(file));
  });

  it('is structural: every node has a type or preserves unknown fields', () => {
    const untyped = nodes
      .filter(([, n]) => n.type === undefined && n['x-kubernetes-preserve-unknown-fields'] !== true)
      .map(([path]) => path);
    expect(untyped).toEqual([]);
    const forbidden = nodes
      .filter(([, n]) => n.additionalProperties === false || 'anyOf' in n || 'oneOf' in n)
      .map(([path]) => path);
    expect(forbidden).toEqual([]);
  });

  it('describes every spec field (kubectl explain)', () => {
    const undocumented = nodes
      .filter(([path]) => path.startsWith('spec'))
      .filter(([, n]) => typeof n.description !== 'string' || n.description.length < 8)
      .map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it('bounds every string, list and map so CEL cost estimation passes', () => {
    const unbounded = nodes
      .filter(
        ([, n]) =>
          (n.type === 'string' && n.maxLength === undefined && n.enum === undefined) ||
          (n.type === 'array' && n.maxItems === undefined) ||
          (n.type === 'object' &&
            typeof n.additionalProperties === 'object' &&
            n.maxProperties === undefined),
      )
      .map(([path]) => path);
    expect(unbounded).toEqual([]);
  });
});

describe('Integration CRD', () => {
  const crd = parse(rendered.get('tributary.dev_integrations.yaml') ?? '') as {
    spec: {
      names: { shortNames: string[]; categories: string[] };
      versions: { additionalPrinterColumns: { name: string; priority?: number }[] }[];
    };
  };

  it('prints READY, REASON, LAST SYNC, DRIFT, SUSPENDED and AGE by default', () => {
    const columns = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(columns.filter((c) => c.priority === undefined).map((c) => c.name)).toEqual([
      'Ready',
      'Reason',
      'Last Sync',
      'Drift',
      'Suspended',
      'Age',
    ]);
  });

  it('has the short name integ in category tributary', () => {
    expect(crd.spec.names.shortNames).toEqual(['integ']);
    expect(crd.spec.names.categories).toEqual(['tributary']);
  });
});

describe('the CRDs as Kubernetes reads YAML (1.1)', () => {
  it.each([...rendered.keys()])('%s means the same read as YAML 1.1 and as 1.2', (file) => {
    const text = rendered.get(file) ?? '';
    // sigs.k8s.io/yaml reads an unquoted Off, on, yes or n as a boolean (YAML 1.1).
    expect(parse(text, { version: '1.1' })).toEqual(parse(text));
  });

  it('keeps the drift.mode value Off a string', () => {
    const text = rendered.get('tributary.dev_reconcilepolicies.yaml') ?? '';
    expect(text).toContain('- "Off"');
  });
});
