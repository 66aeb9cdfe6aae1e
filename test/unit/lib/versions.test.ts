import { describe, expect, it } from 'vitest';
import { isNewerVersion } from '../../../../operator/runtime/webhook/versions.ts';
import { retryDelayMs } from '../../../../operator/runtime/webhook/workers.ts';

describe('isNewerVersion', () => {
  it.each([
    ['2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z', true],
    ['2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', false],
    ['2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z', false],
    ['1700000001', '1700000000', true],
    ['9', '10', false],
    ['sha256:bb', 'sha256:aa', true],
    ['sha256:aa', 'sha256:aa', false],
    ['2026-03-01T00:00:00Z', 'sha256:aa', true],
  ])('%s over %s: %s', (candidate, applied, expected) => {
    expect(isNewerVersion(candidate, applied)).toBe(expected);
  });
});

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
