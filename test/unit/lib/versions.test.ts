import { describe, expect, it } from 'vitest';
import { isNewerVersion } from '../../../operator/lib/versions.ts';

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
