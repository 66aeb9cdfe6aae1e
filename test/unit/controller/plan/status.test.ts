import { describe, expect, it } from 'vitest';
import { statusChanged } from '../../../../operator/controller/plan/status.ts';

describe('statusChanged: the check before a status write', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['an absent status and an empty one', undefined, {}, false],
    ['a field set to undefined and an absent one', { a: 1 }, { a: 1, b: undefined }, false],
    ['equal nested values', { c: [{ x: 1 }] }, { c: [{ x: 1 }] }, false],
    ['a changed value', { a: 1 }, { a: 2 }, true],
    ['an added field', {}, { a: 1 }, true],
    ['a reordered list', { c: [1, 2] }, { c: [2, 1] }, true],
  ])('%s', (_name, before, after, changed) => {
    expect(statusChanged(before, after)).toBe(changed);
  });
});
