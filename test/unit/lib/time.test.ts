import { describe, expect, it } from 'vitest';
import { floorSecond, rfc3339 } from '../../../operator/lib/time.ts';

describe('rfc3339', () => {
  it('writes whole seconds in UTC, as Kubernetes does', () => {
    expect(rfc3339(new Date('2026-01-05T10:00:00.999Z'))).toBe('2026-01-05T10:00:00Z');
  });
});

describe('floorSecond', () => {
  it.each([
    ['a Date', new Date('2026-01-05T10:00:00.999Z'), Date.parse('2026-01-05T10:00:00Z')],
    ['a number', 1_500, 1_000],
    ['a whole second', 2_000, 2_000],
  ])('truncates %s to its second', (_name, time, expected) => {
    expect(floorSecond(time)).toBe(expected);
  });
});
