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
