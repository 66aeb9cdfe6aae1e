import { describe, expect, it } from 'vitest';
import {
  MAX_CHECKPOINT_CHARS,
  decodeCheckpoint,
  encodeCheckpoint,
  laterMark,
} from '../../../operator/runtime/checkpoint.ts';
import { idempotencyKey, recordURL, recordVersion } from '../../../operator/runtime/destination.ts';

describe('checkpoint encoding', () => {
  it('round-trips page and since', () => {
    const text = encodeCheckpoint({ page: 'cus_9', since: '2025-01-01T00:00:00Z' });
    expect(JSON.parse(text)).toEqual({ v: 1, page: 'cus_9', since: '2025-01-01T00:00:00Z' });
    expect(decodeCheckpoint(text)).toEqual({
      ok: true,
      checkpoint: { page: 'cus_9', since: '2025-01-01T00:00:00Z' },
    });
  });

  it('drops a cursor too long for 1024 characters, keeping since', () => {
    const text = encodeCheckpoint({ page: 'x'.repeat(2000), since: 's' });
    expect(text.length).toBeLessThanOrEqual(MAX_CHECKPOINT_CHARS);
    expect(JSON.parse(text)).toEqual({ v: 1, since: 's' });
  });

  it.each([
    ['absent', undefined, { ok: true, checkpoint: {} }],
    ['not JSON', 'cus_9', { ok: false, problem: 'checkpoint is not JSON' }],
    ['another version', '{"v":2}', { ok: false, problem: 'checkpoint has an unknown version' }],
    [
      'a numeric page',
      '{"v":1,"page":3}',
      { ok: false, problem: 'checkpoint fields are not strings' },
    ],
  ] as const)('decodes %s', (_name, text, decoded) => {
    expect(decodeCheckpoint(text)).toEqual(decoded);
  });
});

describe('checkpoint gap detection fields', () => {
  it('round-trips the judge mark, and the cut and counts of a pass in progress', () => {
    const text = encodeCheckpoint({
      page: 'cus_9',
      since: '2025-01-01T00:00:00Z',
      mark: '2025-01-01T09:58:00.000Z',
      cut: '2025-01-01T10:58:00.000Z',
      carry: { s: [4, 3, 1, 0, 0], w: [3, 1] },
    });
    expect(decodeCheckpoint(text)).toEqual({
      ok: true,
      checkpoint: {
        page: 'cus_9',
        since: '2025-01-01T00:00:00Z',
        mark: '2025-01-01T09:58:00.000Z',
        cut: '2025-01-01T10:58:00.000Z',
        carry: { s: [4, 3, 1, 0, 0], w: [3, 1] },
      },
    });
  });

  it('keeps the mark at a pass boundary and drops a cut without a cursor', () => {
    const text = encodeCheckpoint({ since: 's', mark: 'm', cut: 'c' });
    expect(JSON.parse(text)).toEqual({ v: 1, since: 's', mark: 'm' });
  });

  it('a cursor too long to fit drops the cut with it, keeping the mark', () => {
    const text = encodeCheckpoint({ page: 'x'.repeat(2000), since: 's', mark: 'm', cut: 'c' });
    expect(JSON.parse(text)).toEqual({ v: 1, since: 's', mark: 'm' });
  });

  it.each([
    ['a checkpoint from before gap detection', '{"v":1,"since":"s"}', { since: 's' }],
    [
      'a carry without counts of gaps',
      '{"v":1,"page":"p","carry":{"s":[1,1,0,0,0]}}',
      { page: 'p', carry: { s: [1, 1, 0, 0, 0] } },
    ],
    [
      'malformed gap counts (ignored)',
      '{"v":1,"page":"p","mark":"m","cut":"c","carry":{"s":[1,1,0,0,0],"w":[1,-1]}}',
      { page: 'p', mark: 'm', cut: 'c', carry: { s: [1, 1, 0, 0, 0] } },
    ],
    ['a cut without a cursor (ignored)', '{"v":1,"mark":"m","cut":"c"}', { mark: 'm' }],
  ] as const)('decodes %s', (_name, text, checkpoint) => {
    expect(decodeCheckpoint(text)).toEqual({ ok: true, checkpoint });
  });

  it('refuses a mark that is not a string', () => {
    expect(decodeCheckpoint('{"v":1,"mark":5}')).toEqual({
      ok: false,
      problem: 'checkpoint fields are not strings',
    });
  });
});

describe('laterMark', () => {
  it.each([
    ['first value', undefined, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z'],
    [
      'a later date in another offset',
      '2025-01-01T10:00:00Z',
      '2025-01-01T06:00:00-05:00',
      '2025-01-01T06:00:00-05:00',
    ],
    ['an earlier date', '2025-01-02T00:00:00Z', '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z'],
    ['numbers by value', '9', 10, '10'],
    ['not a value', '5', null, '5'],
  ] as const)('%s', (_name, current, value, expected) => {
    expect(laterMark(current, value)).toBe(expected);
  });
});

describe('idempotency keys', () => {
  it('are deterministic hex SHA-256 of (uid, id, version)', () => {
    const key = idempotencyKey('uid-1', 'cus_1', '2025-01-01T00:00:00Z');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(idempotencyKey('uid-1', 'cus_1', '2025-01-01T00:00:00Z')).toBe(key);
    expect(idempotencyKey('uid-2', 'cus_1', '2025-01-01T00:00:00Z')).not.toBe(key);
    expect(idempotencyKey('uid-1', 'cus_2', '2025-01-01T00:00:00Z')).not.toBe(key);
    expect(idempotencyKey('uid-1', 'cus_1', '2025-01-02T00:00:00Z')).not.toBe(key);
    // The encoding is unambiguous: moving a character between fields changes the key.
    expect(idempotencyKey('a', 'bc', 'd')).not.toBe(idempotencyKey('ab', 'c', 'd'));
  });

  it('version by updatedField, else by content regardless of key order', () => {
    expect(recordVersion({ id: 1, updated_at: '2025-01-01' }, 'updated_at')).toBe('2025-01-01');
    const a = recordVersion({ id: 1, name: 'x', nested: { b: 1, a: 2 } }, undefined);
    const b = recordVersion({ nested: { a: 2, b: 1 }, name: 'x', id: 1 }, undefined);
    expect(a).toBe(b);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(recordVersion({ id: 1, name: 'y', nested: { b: 1, a: 2 } }, undefined)).not.toBe(a);
    expect(recordVersion({ id: 1 }, 'updated_at')).toMatch(/^sha256:/);
  });

  it('record URLs encode the id', () => {
    expect(recordURL('http://ledger.test/customers/{id}', 'a b/c').href).toBe(
      'http://ledger.test/customers/a%20b%2Fc',
    );
  });
});
