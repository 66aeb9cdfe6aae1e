import { describe, expect, it } from 'vitest';
import { pendingRequest } from '../../../../operator/controller/plan/requests.ts';

const NAME = 'tributary.dev/sync-requested-at';

describe('pendingRequest: a request annotation acts once per value', () => {
  it.each<[string, Record<string, string>, string | undefined, string | undefined]>([
    ['no annotation', {}, undefined, undefined],
    ['a first value', { [NAME]: 'a' }, undefined, 'a'],
    ['a new value', { [NAME]: 'b' }, 'a', 'b'],
    ['the handled value again', { [NAME]: 'a' }, 'a', undefined],
    ['an empty value is a value', { [NAME]: '' }, undefined, ''],
  ])('%s', (_name, annotations, handled, expected) => {
    expect(pendingRequest(annotations, NAME, handled)).toBe(expected);
  });
});
