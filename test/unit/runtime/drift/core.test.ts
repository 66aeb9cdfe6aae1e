import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareSorted, differences } from '../../../../operator/runtime/drift/compare.ts';
import { contractedFields, fingerprint } from '../../../../operator/runtime/drift/fingerprint.ts';
import {
  ExternalSorter,
  decodeEntry,
  encodeEntry,
  type Entry,
  type SortedStream,
} from '../../../../operator/runtime/drift/spill.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-drift-test-'));
  dirs.push(dir);
  return dir;
}

/** The entries in line order, as an in-memory sort gives them. */
const sortedLines = (entries: readonly Entry[]): string[] => entries.map(encodeEntry).sort();

function memory(entries: Entry[]): SortedStream {
  const sorted = sortedLines(entries);
  let index = 0;
  return { next: () => sorted[index++], close: () => undefined };
}

function drain(stream: SortedStream): string[] {
  const out: string[] = [];
  for (let line = stream.next(); line !== undefined; line = stream.next()) out.push(line);
  stream.close();
  return out;
}

const e = (id: string, hash = 'h'): Entry => ({ id, hash });

describe('encoded entries', () => {
  it.each([
    ['plain', { id: 'cus_1', hash: 'abc' }],
    ['tab, newline, NUL and backslashes in the id', { id: 'a\tb\nc\\d\\x09\u0000', hash: 'x' }],
    ['unicode id and a payload', { id: 'é-🦀', hash: 'y', payload: '{"a":"x\\ty"}' }],
  ])('round-trip %s on one line', (_name, entry: Entry) => {
    const line = encodeEntry(entry);
    expect(line).not.toMatch(/\n/);
    expect(line.split('\t')).toHaveLength(3);
    expect(decodeEntry(line)).toEqual({ payload: undefined, ...entry });
  });

  it('sort in (id, fingerprint) order whatever the id characters', () => {
    const entries = [
      { id: 'ab', hash: 'z' },
      { id: 'ab\u0001', hash: 'a' },
      { id: 'ab', hash: 'a' },
      { id: 'a', hash: 'q' },
      { id: 'ab\tc', hash: 'a' },
    ];
    expect(
      sortedLines(entries)
        .map(decodeEntry)
        .map((e) => `${e.id}|${e.hash}`),
    ).toEqual(['a|q', 'ab|a', 'ab|z', 'ab\u0001|a', 'ab\tc|a']);
  });
});

describe('ExternalSorter', () => {
  const ids = Array.from({ length: 500 }, (_, i) => `id_${String((i * 7919) % 500)}\t${i % 3}`);
  const entries = ids.map((id, i) => ({ id, hash: `h${i % 5}`, payload: `{"n":${i}}` }));

  it.each([
    ['in memory', { maxRecords: 10_000 }, 0],
    ['spilled, one merge', { maxRecords: 64 }, 8],
    ['spilled, several merge passes', { maxRecords: 16, maxFanIn: 3 }, 32 + 11 + 4 + 1],
    ['spilled by size', { maxChars: 2000 }, 6],
  ])('sorts %s exactly like an in-memory sort', (_name, budget, files) => {
    const dir = tempDir();
    const sorter = new ExternalSorter({ dir, name: 'side', blockBytes: 4096, ...budget });
    for (const entry of entries) sorter.add(entry);
    const stream = sorter.sorted();
    expect(sorter.filesWritten).toBe(files);
    expect(drain(stream)).toEqual(sortedLines(entries));
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('differences', () => {
  it('finds missing, unexpected and mismatched ids in id order', () => {
    const source = memory([e('a'), e('b'), e('c', 'x'), e('e'), e('f')]);
    const destination = memory([e('b'), e('c', 'y'), e('d'), e('f'), e('g')]);
    expect([...differences(source, destination)].map((d) => [d.kind, d.id])).toEqual([
      ['missing', 'a'],
      ['mismatched', 'c'],
      ['unexpected', 'd'],
      ['missing', 'e'],
      ['unexpected', 'g'],
    ]);
  });

  it('counts an id repeated on one side once', () => {
    const tally = compareSorted(
      memory([e('a'), e('a'), e('b', 'x'), e('b', 'y')]),
      memory([e('a'), e('b', 'x'), e('b', 'x'), e('c'), e('c')]),
    );
    expect(tally).toMatchObject({ missing: 0, mismatched: 0, unexpected: 1 });
  });

  it('keeps the ten smallest ids of each kind as samples', () => {
    const ids = Array.from({ length: 25 }, (_, i) => `id_${String(i).padStart(2, '0')}`);
    const tally = compareSorted(memory(ids.map((id) => e(id))), memory([]));
    expect(tally.missing).toBe(25);
    expect(tally.samples.missing).toEqual(ids.slice(0, 10));
    expect(tally.samples.unexpected).toEqual([]);
  });

  it('finds nothing between equal sides, or two empty ones', () => {
    const entries = [e('a', '1'), e('b', '2')];
    expect(compareSorted(memory(entries), memory(entries))).toMatchObject({
      missing: 0,
      unexpected: 0,
      mismatched: 0,
    });
    expect(compareSorted(memory([]), memory([])).missing).toBe(0);
  });
});

describe('fingerprint', () => {
  const record = { id: 'c1', email: 'a@x.test', name: 'Ada', _rev: '3-abc', synced_at: 'now' };

  it('hashes only contracted fields when the schema lists properties', () => {
    const fields = contractedFields({
      properties: { id: { type: 'string' }, email: { type: 'string' } },
    });
    expect(fields).toEqual(['email', 'id']);
    expect(fingerprint(record, fields)).toBe(fingerprint({ email: 'a@x.test', id: 'c1' }, fields));
    expect(fingerprint(record, fields)).not.toBe(
      fingerprint({ ...record, email: 'b@x.test' }, fields),
    );
    expect(fingerprint(record, fields)).not.toBe(fingerprint({ id: 'c1' }, fields));
  });

  it('hashes a nested contracted path by the value there, ignoring what sits beside it', () => {
    const fields = contractedFields({
      properties: { id: { type: 'string' }, 'billing.city': { type: 'string' } },
    });
    const at = (city: unknown, extra: Record<string, unknown> = {}) =>
      fingerprint({ id: 'c1', billing: { city, ...extra } }, fields);
    expect(at('Oslo', { zip: '0150' })).toBe(at('Oslo'));
    expect(at('Oslo')).not.toBe(at('Bergen'));
    expect(at('Oslo')).not.toBe(fingerprint({ id: 'c1' }, fields));
    const lines = contractedFields({ properties: { 'lines[].sku': { type: 'string' } } });
    const skus = (...sku: string[]) => fingerprint({ lines: sku.map((s) => ({ sku: s })) }, lines);
    expect(skus('A', 'B')).not.toBe(skus('A'));
    expect(skus('A', 'B')).not.toBe(skus('B', 'A'));
  });

  it('without a contract, hashes every field but the volatile ones, in any key order', () => {
    expect(contractedFields(undefined)).toBeUndefined();
    expect(contractedFields({ required: [] })).toBeUndefined();
    const plain = { name: 'Ada', email: 'a@x.test', id: 'c1' };
    expect(fingerprint(record, undefined)).toBe(fingerprint(plain, undefined));
    expect(fingerprint(plain, undefined)).not.toBe(fingerprint({ ...plain, extra: 1 }, undefined));
    expect(fingerprint(plain, undefined)).not.toBe(fingerprint({ ...plain, id: 1 }, undefined));
    expect(fingerprint(plain, undefined)).toHaveLength(22);
  });
});
