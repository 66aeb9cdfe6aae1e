import { describe, expect, it } from 'vitest';
import { validateIntegration, validateReconcilePolicy } from '../../../operator/api/index.ts';
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
