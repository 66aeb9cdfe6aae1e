import { describe, expect, it } from 'vitest';
import { validateIntegration, validateReconcilePolicy } from '../../../operator/api/index.ts';
import { jsonDepthAtMost, MAX_JSON_DEPTH } from '../../../operator/api/common.ts';
import { INVALID_CASES } from '../../fixtures/invalid-objects.ts';
import { exampleDocuments } from '../../fixtures/manifests.ts';

const validateByKind = (object: Record<string, unknown>) =>
  object.kind === 'Integration' ? validateIntegration(object) : validateReconcilePolicy(object);

describe('examples', () => {
  const documents = exampleDocuments();

  it('cover both kinds and every provider', () => {
    const kinds = new Set(documents.map((d) => d.kind));
    expect(kinds).toEqual(new Set(['Integration', 'ReconcilePolicy']));
    const providers = documents.map(
      (d) => (d.object.spec as { source?: { provider: string } }).source?.provider,
    );
    expect(providers).toEqual(expect.arrayContaining(['stripe', 'shopify', 'http']));
    expect(documents.filter((d) => d.kind === 'ReconcilePolicy').length).toBeGreaterThanOrEqual(2);
  });

  it.each(documents.map((d) => [`${d.file} ${d.kind}/${d.name}`, d.object] as const))(
    '%s is valid',
    (_, object) => {
      expect(validateByKind(object)).toMatchObject({ ok: true });
    },
  );
});

describe('invalid objects', () => {
  it('has at least 25 cases rejected at admission', () => {
    expect(INVALID_CASES.filter((c) => c.rejectedBy === 'admission').length).toBeGreaterThanOrEqual(
      25,
    );
  });

  it.each(INVALID_CASES.map((c) => [c.name, c] as const))(
    '%s is rejected naming its field',
    (_, invalidCase) => {
      const result = validateByKind(invalidCase.object);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      // The field named is the one changed, not a parent or a sibling.
      const named = result.errors.map((error) => error.slice(0, error.indexOf(': ')));
      expect(named).toContain(invalidCase.field);
    },
  );
});

describe('spec.schema.required', () => {
  // Found by the hostile-specs chaos scenario: the CEL rule refused what zod accepts.
  const withSchema = (schema: unknown) => ({
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'Integration',
    metadata: { name: 'x', namespace: 'ns' },
    spec: { connector: { image: 'ghcr.io/acme/c:1' }, schema },
  });

  it('may be empty without properties, as the CRD rule reads it per element', () => {
    expect(validateIntegration(withSchema({ required: [] }))).toMatchObject({ ok: true });
    expect(validateIntegration(withSchema({ required: ['id'] }))).toMatchObject({ ok: false });
    expect(
      validateIntegration(withSchema({ required: ['id'], properties: { id: { type: 'string' } } })),
    ).toMatchObject({ ok: true });
  });

  it('has a CEL rule that needs properties only for an element', async () => {
    const { readFileSync } = await import('node:fs');
    const crd = readFileSync(
      new URL('../../../crds/tributary.dev_integrations.yaml', import.meta.url),
      'utf8',
    );
    expect(crd).toContain('self.required.all(f, has(self.properties) && f in self.properties)');
  });
});

describe('spec.connector.config depth', () => {
  // Found by the hostile-specs chaos scenario: 5000 levels were admitted and wedged the operator.
  const nest = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { d: value } : [value];
    return value;
  };
  const withConfig = (config: unknown) => ({
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'Integration',
    metadata: { name: 'x', namespace: 'ns' },
    spec: { connector: { image: 'ghcr.io/acme/c:1', config } },
  });

  it.each([
    ['scalars', { a: 1, b: 'x' }, 1, true],
    ['exactly the limit', { a: nest(MAX_JSON_DEPTH - 1) }, MAX_JSON_DEPTH, true],
    ['one past the limit', { a: nest(MAX_JSON_DEPTH) }, MAX_JSON_DEPTH, false],
    ['5000 levels', { a: nest(5000) }, MAX_JSON_DEPTH, false],
  ])('jsonDepthAtMost: %s', (_, value, limit, expected) => {
    expect(jsonDepthAtMost(value, limit)).toBe(expected);
  });

  it('refuses a config nested past the limit, naming the field, and walks 100000 levels', () => {
    const result = validateIntegration(withConfig({ deep: nest(100_000) }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain('spec.connector.config');
    expect(validateIntegration(withConfig({ a: nest(50) }))).toMatchObject({ ok: true });
  });
});
