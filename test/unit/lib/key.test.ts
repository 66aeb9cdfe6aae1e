import { describe, expect, it } from 'vitest';
import { joinKey, objectKey, splitKey } from '../../../operator/lib/key.ts';

describe('the reconcile key', () => {
  it.each([
    ['ns/name', { namespace: 'ns', name: 'name' }],
    ['cluster-scoped', { namespace: '', name: 'cluster-scoped' }],
  ])('splitKey(%s)', (key, expected) => {
    expect(splitKey(key)).toEqual(expected);
  });

  it.each([
    ['a namespaced object', 'team-a', 'orders', 'team-a/orders'],
    ['a cluster-scoped object', undefined, 'node-1', 'node-1'],
    ['an empty namespace', '', 'node-1', 'node-1'],
  ])(
    'joinKey and objectKey agree for %s, and splitKey undoes them',
    (_what, namespace, name, key) => {
      expect(joinKey(namespace, name)).toBe(key);
      expect(objectKey({ metadata: { namespace, name } })).toBe(key);
      expect(splitKey(key)).toEqual({ namespace: namespace ?? '', name });
    },
  );
});
