import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../../operator/runtime/webhook/workers.ts';

describe('retryDelayMs', () => {
  it('doubles from the base, caps at 5 minutes, jitters the upper half and honours Retry-After', () => {
    expect([0, 1, 2, 3].map((a) => retryDelayMs(a, 1000, () => 1))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(retryDelayMs(0, 1000, () => 0)).toBe(500);
    expect(retryDelayMs(20, 1000, () => 1)).toBe(300_000);
    expect(retryDelayMs(0, 1000, () => 0, 30_000)).toBe(30_000);
  });
});
