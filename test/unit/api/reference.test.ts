import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConditionType, Reason } from '../../../operator/api/conditions.ts';
import { customResourceDefinitions } from '../../../operator/api/crd.ts';
import {
  DRIFT_CHECK_REQUESTED_ANNOTATION,
  SYNC_REQUESTED_ANNOTATION,
} from '../../../operator/api/integration.ts';
import { operatorDefaults, renderReference } from '../../../scripts/reference.ts';
import { ROOT } from '../../fixtures/manifests.ts';

type Node = Record<string, unknown>;

const reference = renderReference();

/** The table row of one field path, or undefined when the reference has none. */
function row(path: string): string | undefined {
  return reference.split('\n').find((line) => line.startsWith(`| \`${path}\` |`));
}

/**
 * Every field path under `node`, written as the reference writes them: `[]` for the element of
 * a list of objects, `.<key>` for the value of a map of objects.
 */
function* fieldPaths(node: Node, path: string): Generator<[string, Node]> {
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    const childPath = `${path}.${name}`;
    yield [childPath, child];
    yield* fieldPaths(child, childPath);
    const items = child.items as Node | undefined;
    if (items?.properties !== undefined) yield* fieldPaths(items, `${childPath}[]`);
    const values = child.additionalProperties as Node | undefined;
    if (typeof values === 'object' && values.properties !== undefined) {
      yield* fieldPaths(values, `${childPath}.<key>`);
    }
  }
}

const kinds = [...customResourceDefinitions().values()].map((crd) => {
  const { spec } = crd as {
    spec: {
      names: { kind: string; shortNames: string[] };
      versions: { schema: { openAPIV3Schema: Node } }[];
    };
  };
  const root = spec.versions[0]?.schema.openAPIV3Schema ?? {};
  const { spec: specNode, status } = root.properties as { spec: Node; status: Node };
  const fields = [...fieldPaths(specNode, 'spec'), ...fieldPaths(status, 'status')];
  return { kind: spec.names.kind, shortNames: spec.names.shortNames, fields };
});

describe('docs/reference.md', () => {
  it('is committed as generated (run `npm run generate`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8')).toBe(reference);
  });

  it('renders the same bytes every time', () => {
    expect(renderReference()).toBe(reference);
  });

  describe.each(kinds)('$kind', ({ kind, shortNames, fields }) => {
    it('has a section with its short names', () => {
      expect(reference).toContain(`\n## ${kind}\n`);
      for (const name of shortNames) expect(reference).toContain(`\`${name}\``);
    });

    it('has a row for every field of spec and status', () => {
      expect(fields.length).toBeGreaterThan(10);
      expect(fields.map(([path]) => path).filter((path) => row(path) === undefined)).toEqual([]);
    });

    it('shows every enum value and every CEL message of a field', () => {
      for (const [path, node] of fields) {
        const values = (node.enum ?? (node.items as Node | undefined)?.enum ?? []) as string[];
        for (const value of values) expect(row(path)).toContain(`\`${value}\``);
        const rules = (node['x-kubernetes-validations'] ?? []) as { message: string }[];
        const shownIn = node.properties === undefined ? (row(path) ?? '') : reference;
        for (const { message } of rules) expect(shownIn).toContain(message);
      }
    });
  });
});

describe('defaults in docs/reference.md', () => {
  const defaults = [...operatorDefaults()];

  it.each(defaults)('shows the operator default of %s for policies and overrides', (path, d) => {
    const value = `\`${String(d.value)}\``;
    expect(row(`spec.${path}`)).toContain(value);
    expect(row(`spec.overrides.${path}`)).toContain(`the ReconcilePolicy's, else`);
    expect(row(`spec.overrides.${path}`)).toContain(value);
  });

  it('marks computed defaults (freshness.maxAge) as computed, not as a fixed value', () => {
    expect(row('spec.freshness.maxAge')).toContain('computed (operator');
    expect(row('spec.sync.interval')).toContain('`15m` (operator)');
  });

  it.each(defaults.filter(([, d]) => !d.derived))(
    'agrees with the "Default:" the description of %s states',
    (path, d) => {
      const description = row(`spec.${path}`)?.split(' | ').at(-1) ?? '';
      if (description.includes('Default:')) {
        expect(description).toContain(`Default: ${String(d.value)}.`);
      }
    },
  );
});

describe('conditions and annotations in docs/reference.md', () => {
  it.each([...Object.values(ConditionType), ...Object.values(Reason)])(
    'describes %s from its doc comment',
    (value) => {
      const line = reference.split('\n').find((l) => l.startsWith(`| \`${value}\` | `));
      expect(line?.length ?? 0).toBeGreaterThan(`| \`${value}\` | `.length + 10);
    },
  );

  it('says which polarity Ready and Stalled have', () => {
    expect(reference).toMatch(/\| `Ready` \| Normal-true/);
    expect(reference).toMatch(/\| `Stalled` \| Abnormal-true/);
  });

  it('lists the request annotations', () => {
    expect(reference).toContain(`| \`${SYNC_REQUESTED_ANNOTATION}\` |`);
    expect(reference).toContain(`| \`${DRIFT_CHECK_REQUESTED_ANNOTATION}\` |`);
  });
});
