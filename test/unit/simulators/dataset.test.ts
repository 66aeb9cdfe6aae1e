import { describe, expect, it } from 'vitest';
import { Dataset } from '../../../dev/simulators/dataset.ts';

describe('Dataset', () => {
  it('generates the same records from the same seed and different ones from another', () => {
    const a = new Dataset({ count: 10, seed: 7 });
    const b = new Dataset({ count: 10, seed: 7 });
    const c = new Dataset({ count: 10, seed: 8 });
    expect([...a.records()]).toEqual([...b.records()]);
    expect([...a.records()]).not.toEqual([...c.records()]);
    expect(a.record(3)).toMatchObject({
      id: 'cus_00000003',
      email: expect.stringMatching(/@example\.test$/) as unknown,
      name: expect.any(String) as unknown,
      created: expect.any(Number) as unknown,
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown,
    });
  });

  it('builds any record of a 10M-record dataset on demand without materialising the rest', () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const dataset = new Dataset({ count: 10_000_000, resource: 'orders' });
    dataset.update([9_999_999]);
    const last = dataset.record(9_999_999);
    // Materialised, 10M records would take gigabytes.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    expect(last).toMatchObject({ id: 'ord_09999999', version: 2 });
    expect(dataset.indexOf('ord_09999999')).toBe(9_999_999);
  });

  it('orders created by index, two records per timestamp, and maps ids back to indexes', () => {
    const dataset = new Dataset({ count: 6, startTime: 1000 });
    expect([0, 1, 2, 3, 4, 5].map((i) => dataset.createdAt(i))).toEqual([
      1000, 1000, 1060, 1060, 1120, 1120,
    ]);
    expect(dataset.indexOf('cus_00000004')).toBe(4);
    expect(dataset.indexOf('cus_00000006')).toBeUndefined();
    expect(dataset.indexOf('nope')).toBeUndefined();
    const numeric = new Dataset({ count: 3, numericIdBase: 500 });
    expect(numeric.idAt(2)).toBe(502);
    expect(numeric.indexOf('501')).toBe(1);
  });

  it('updates records with a newer updated_at than any record had and a new version', () => {
    const dataset = new Dataset({ count: 50 });
    const latest = Math.max(...Array.from({ length: 50 }, (_, i) => dataset.updatedAt(i)));
    const before = dataset.record(7);
    dataset.update([7, 9]);
    const after = dataset.record(7);
    expect(after.version).toBe(2);
    expect(after.balance).not.toBe(before.balance);
    expect(dataset.updatedAt(7)).toBeGreaterThan(latest);
    expect(dataset.updatedAt(9)).toBe(dataset.updatedAt(7));
    dataset.update([9]);
    expect(dataset.updatedAt(9)).toBeGreaterThan(dataset.updatedAt(7));
    expect(dataset.record(9).version).toBe(3);
  });

  it.each([
    ['missingEmail' as const, (r: Record<string, unknown>) => !('email' in r)],
    ['wrongType' as const, (r: Record<string, unknown>) => typeof r.email === 'number'],
    ['badTimestamp' as const, (r: Record<string, unknown>) => r.updated_at === 'not-a-timestamp'],
  ])('makes chosen records malformed: %s', (kind, isBroken) => {
    const dataset = new Dataset({ count: 10 });
    dataset.setMalformed([2, 5], kind);
    const broken = [...dataset.records()].map(isBroken);
    expect(broken).toEqual([false, false, true, false, false, true, false, false, false, false]);
    expect(dataset.validIds()).toHaveLength(8);
    expect(dataset.malformed().map((m) => m.id)).toEqual(['cus_00000002', 'cus_00000005']);
    dataset.clearMalformed();
    expect(dataset.validIds()).toHaveLength(10);
  });

  it('drifts the schema: a field added to and a field removed from every record', () => {
    const dataset = new Dataset({ count: 3 });
    dataset.addField('loyalty_tier');
    dataset.addField('region', 'eu');
    dataset.removeField('name');
    for (const record of dataset.records()) {
      expect(record).not.toHaveProperty('name');
      expect(record.region).toBe('eu');
      expect(record.loyalty_tier).toMatch(/^loyalty_tier-\d$/);
    }
    expect(dataset.drift()).toEqual({ added: ['loyalty_tier', 'region'], removed: ['name'] });
    expect(() => {
      dataset.removeField('id');
    }).toThrow();
  });

  it('grows with records created after every existing timestamp', () => {
    const dataset = new Dataset({ count: 4 });
    dataset.update([0]);
    const latest = dataset.updatedAt(0);
    dataset.grow(2);
    expect(dataset.size).toBe(6);
    expect(dataset.createdAt(4)).toBeGreaterThan(latest);
    expect(dataset.updatedAt(5)).toBeGreaterThanOrEqual(dataset.createdAt(5));
    expect(dataset.createdAt(5)).toBe(dataset.createdAt(4));
  });

  it('rejects indexes out of range', () => {
    const dataset = new Dataset({ count: 2 });
    expect(() => dataset.record(2)).toThrow(RangeError);
    expect(() => {
      dataset.update([-1]);
    }).toThrow(RangeError);
  });
});
