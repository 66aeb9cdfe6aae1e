import { describe, expect, it } from 'vitest';
import type { EffectivePolicy } from '../../../../operator/api/index.ts';
import { nextAttempt, retryDelay } from '../../../../operator/controller/plan/backoff.ts';

type Retry = EffectivePolicy['retry'];

const defaults: Retry = {
  maxAttempts: 5,
  initialInterval: '30s',
  backoffCoefficient: 2,
  maxInterval: '30m',
  jitter: 'None',
};
const full: Retry = { ...defaults, jitter: 'Full' };
const slow: Retry = {
  ...defaults,
  initialInterval: '5m',
  maxInterval: '1h',
  backoffCoefficient: 3,
};
const steady: Retry = { ...defaults, backoffCoefficient: 1 };
const many: Retry = { ...defaults, maxAttempts: 100, backoffCoefficient: 10 };

const always = (value: number) => () => value;

describe('retryDelay', () => {
  it.each<[string, Retry, number, number, number]>([
    ['first failure waits the initial interval', defaults, 1, 0.5, 30_000],
    ['second failure doubles it', defaults, 2, 0.5, 60_000],
    ['fourth failure', defaults, 4, 0.5, 240_000],
    ['capped at maxInterval', defaults, 8, 0.5, 1_800_000],
    ['coefficient 3', slow, 2, 0.5, 900_000],
    ['coefficient 3, third failure', slow, 3, 0.5, 2_700_000],
    ['coefficient 3, capped at 1h', slow, 4, 0.5, 3_600_000],
    ['coefficient 1 never grows', steady, 7, 0.5, 30_000],
    ['huge exponents stay capped', many, 99, 0.5, 1_800_000],
    ['full jitter: half the ceiling', full, 2, 0.5, 30_000],
    ['full jitter: zero at the bottom', full, 3, 0, 0],
    ['full jitter: just under the ceiling at the top', full, 1, 0.999999, 29_999],
    ['full jitter: capped before jitter', { ...full, maxAttempts: 50 }, 40, 0.25, 450_000],
  ])('%s', (_name, retry, attempt, random, expected) => {
    expect(retryDelay({ attempt, retry, random: always(random) })).toBe(expected);
  });

  it('never calls random without jitter', () => {
    const random = () => {
      throw new Error('random called');
    };
    expect(retryDelay({ attempt: 1, retry: defaults, random })).toBe(30_000);
  });

  it('stays within [0, ceiling] whatever random returns', () => {
    for (const value of [-1, 0, 0.3, 1, 2]) {
      const delay = retryDelay({ attempt: 1, retry: full, random: always(value) });
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(30_000);
    }
  });
});

describe('nextAttempt', () => {
  const failedAt = new Date('2026-01-05T10:00:00Z');

  it.each<[string, Retry, number, ReturnType<typeof nextAttempt>]>([
    [
      'after the first failure, attempt 2 in 30s',
      defaults,
      1,
      { exhausted: false, attempt: 2, at: new Date('2026-01-05T10:00:30Z'), delay: 30_000 },
    ],
    [
      'after the fourth failure, attempt 5 in 4m',
      defaults,
      4,
      { exhausted: false, attempt: 5, at: new Date('2026-01-05T10:04:00Z'), delay: 240_000 },
    ],
    ['after the last attempt, exhausted', defaults, 5, { exhausted: true }],
    [
      'a single attempt is exhausted at once',
      { ...defaults, maxAttempts: 1 },
      1,
      { exhausted: true },
    ],
    ['beyond maxAttempts (policy lowered), exhausted', defaults, 7, { exhausted: true }],
  ])('%s', (_name, retry, attempt, expected) => {
    expect(nextAttempt({ attempt, retry, random: always(0.5), failedAt })).toEqual(expected);
  });
});
