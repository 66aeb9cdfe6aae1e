import { describe, expect, it } from 'vitest';
import { serializeResult } from '../../../operator/runtime/result.ts';
import {
  MAX_REPORTED,
  MAX_TRACKED_PATHS,
  SchemaDrift,
} from '../../../operator/runtime/schema-drift.ts';
import type { RecordSchema } from '../../../operator/runtime/schema.ts';

type Case = readonly [string, readonly Record<string, unknown>[], boolean, unknown];

function drift(contract: RecordSchema | undefined, records: readonly Record<string, unknown>[]) {
  const tracker = new SchemaDrift(contract);
  for (const record of records) tracker.observe(record);
  return tracker;
}

describe('SchemaDrift: top-level fields', () => {
  const contract: RecordSchema = {
    properties: { id: { type: 'string' }, email: { type: 'string' }, phone: { type: 'string' } },
  };
  it.each<Case>([
    ['records matching the contract', [{ id: '1', email: 'x', phone: 'y' }], true, undefined],
    ['a new field', [{ id: '1', email: 'x', phone: 'y', vip: true }], true, { added: ['vip'] }],
    [
      'a field never seen',
      [
        { id: '1', email: 'x' },
        { id: '2', email: 'y' },
      ],
      true,
      { removed: ['phone'] },
    ],
    [
      'a field seen in only one record',
      [
        { id: '1', email: 'x' },
        { id: '2', phone: 'p' },
      ],
      true,
      undefined,
    ],
    [
      'both',
      [{ id: '1', email: 'x', b: 1, a: 2 }],
      true,
      { added: ['a', 'b'], removed: ['phone'] },
    ],
    [
      'an incomplete pass reports no removals',
      [{ id: '1', email: 'x', b: 1 }],
      false,
      { added: ['b'] },
    ],
    [
      'an object contracted as a whole is opaque: nothing under it is tracked',
      [{ id: '1', email: 'x', phone: 'y', vip: { since: 2020 } }],
      true,
      { added: ['vip'] },
    ],
    ['no records read', [], true, undefined],
  ])('%s', (_name, records, complete, changes) => {
    expect(drift(contract, records).report(complete)).toEqual(changes);
  });

  it('reports nothing without contracted properties', () => {
    expect(drift(undefined, [{ id: '1', anything: 2 }]).report(true)).toBeUndefined();
  });
});

describe('SchemaDrift: nested fields as dotted paths', () => {
  const contract: RecordSchema = {
    properties: {
      id: { type: 'string' },
      billing: { type: 'object' },
      'billing.address.city': { type: 'string' },
      'billing.address.zip': { type: 'string' },
      'lines[].sku': { type: 'string' },
      metadata: { type: 'object' },
    },
  };
  const full = {
    id: '1',
    billing: { address: { city: 'Oslo', zip: '0150' } },
    lines: [{ sku: 'A' }],
    metadata: { anything: { goes: true } },
  };
  it.each<Case>([
    ['records matching the contract at every depth', [full], true, undefined],
    [
      'a removed nested field is named by its path',
      [{ ...full, billing: { address: { zip: '0150' } } }],
      true,
      { removed: ['billing.address.city'] },
    ],
    [
      'a nested field added beside contracted ones',
      [{ ...full, billing: { address: { ...full.billing.address, street: 'Storgata' } } }],
      true,
      { added: ['billing.address.street'] },
    ],
    [
      'a new object under a path the contract goes into: only its top is listed',
      [{ ...full, billing: { ...full.billing, card: { last4: '4242', brand: 'visa' } } }],
      true,
      { added: ['billing.card'] },
    ],
    [
      'a whole contracted object gone: only the object is listed',
      [{ id: '1', lines: [{ sku: 'A' }], metadata: {} }],
      true,
      { removed: ['billing'] },
    ],
    [
      'array elements: a field added to an element and one removed from every element',
      [{ ...full, lines: [{ qty: 1 }, { qty: 2, note: 'x' }] }],
      true,
      { added: ['lines[].note', 'lines[].qty'], removed: ['lines[].sku'] },
    ],
    ['an always empty array has no fields to miss', [{ ...full, lines: [] }], true, undefined],
    [
      'a field seen in one element of one record is not removed',
      [
        { ...full, lines: [{}] },
        { ...full, lines: [{}, { sku: 'B' }] },
      ],
      true,
      undefined,
    ],
  ])('%s', (_name, records, complete, changes) => {
    expect(drift(contract, records).report(complete)).toEqual(changes);
  });

  it('tracks paths at most 4 segments deep', () => {
    const deep = drift(
      { properties: { 'a.b.c.d': { type: 'object' }, 'a.b.c.d.e': { type: 'string' } } },
      [{ a: { b: { c: { d: { f: 1 }, x: 1 } } } }],
    );
    // a.b.c.d.e is deeper than the bound: neither seen nor reported removed.
    expect(deep.report(true)).toEqual({ added: ['a.b.c.x'] });
  });

  it('tracks at most 200 added paths per pass and says when it left some out', () => {
    const record: Record<string, unknown> = { id: '1' };
    for (let i = 0; i < MAX_TRACKED_PATHS + 50; i++) record[`k${String(i).padStart(3, '0')}`] = i;
    const report = drift({ properties: { id: { type: 'string' } } }, [record]).report(true);
    expect(report?.added).toHaveLength(MAX_REPORTED);
    expect(report?.truncated).toBe(true);
  });

  it('says nothing is truncated when every change is listed', () => {
    const report = drift({ properties: { id: { type: 'string' } } }, [{ id: '1', a: 1 }]).report(
      true,
    );
    expect(report).toEqual({ added: ['a'] });
  });
});

describe('serializeResult: schema changes within 4 KiB', () => {
  it('shortens long lists of long paths and marks them truncated, keeping the counts', () => {
    const long = (i: number) => `${'x'.repeat(250)}.${i}`;
    const names = Array.from({ length: 32 }, (_, i) => long(i));
    const text = serializeResult({
      outcome: 'Succeeded',
      stats: { read: 1, written: 1, unchanged: 0, quarantined: 0, failed: 0 },
      schemaChanges: { added: names, removed: names },
    });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
    const parsed = JSON.parse(text) as { schemaChanges: Record<string, unknown>; stats: unknown };
    expect(parsed.stats).toMatchObject({ read: 1 });
    expect(parsed.schemaChanges.truncated).toBe(true);
    expect(parsed.schemaChanges.added).toHaveLength(8);
  });
});
