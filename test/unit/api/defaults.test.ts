import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_DEFAULTS,
  defaultMaxAge,
  resolvePolicy,
  type ReconcilePolicySpec,
} from '../../../operator/api/index.ts';

describe('resolvePolicy', () => {
  it('falls back to the built-in defaults', () => {
    const resolved = resolvePolicy(undefined, undefined);
    expect(resolved.sync).toEqual({
      interval: '15m',
      timeZone: 'Etc/UTC',
      jitter: '10%',
      concurrencyPolicy: 'Forbid',
    });
    expect(resolved.retry).toEqual(BUILT_IN_DEFAULTS.retry);
    expect(resolved.drift).toEqual({
      interval: '6h',
      timeZone: 'Etc/UTC',
      mode: 'Report',
      tolerance: { records: 0 },
    });
    expect(resolved.freshness.maxAge).toBe('1h');
  });

  const policy: ReconcilePolicySpec = {
    sync: { interval: '30m', concurrencyPolicy: 'Replace' },
    retry: { maxAttempts: 3, initialInterval: '1m' },
    drift: { mode: 'Repair', tolerance: { records: 5 } },
    history: { failedRuns: 1 },
  };

  it.each<
    [
      string,
      ReconcilePolicySpec | undefined,
      (r: ReturnType<typeof resolvePolicy>) => unknown,
      unknown,
    ]
  >([
    ['policy beats default', undefined, (r) => r.retry.maxAttempts, 3],
    ['default fills what the policy leaves out', undefined, (r) => r.retry.maxInterval, '30m'],
    ['override beats policy', { retry: { maxAttempts: 8 } }, (r) => r.retry.maxAttempts, 8],
    [
      'override leaves sibling fields of the policy',
      { retry: { maxAttempts: 8 } },
      (r) => r.retry.initialInterval,
      '1m',
    ],
    [
      'override of one section keeps others',
      { timeouts: { run: '1h' } },
      (r) => r.sync.concurrencyPolicy,
      'Replace',
    ],
    [
      'nested tolerance merges field-wise',
      { drift: { mode: 'Report' } },
      (r) => r.drift.tolerance.records,
      5,
    ],
    [
      'override schedule replaces policy interval',
      { sync: { schedule: '0 * * * *' } },
      (r) => [r.sync.schedule, r.sync.interval],
      ['0 * * * *', undefined],
    ],
    [
      'override interval keeps policy policy fields',
      { sync: { interval: '5m' } },
      (r) => [r.sync.interval, r.sync.concurrencyPolicy],
      ['5m', 'Replace'],
    ],
    [
      'zero is a value, not absence',
      { history: { failedRuns: 0 } },
      (r) => r.history.failedRuns,
      0,
    ],
    ['freshness derives from the resolved interval', undefined, (r) => r.freshness.maxAge, '1h30m'],
    ['explicit freshness wins', { freshness: { maxAge: '2h' } }, (r) => r.freshness.maxAge, '2h'],
  ])('%s', (_, overrides, pick, expected) => {
    expect(pick(resolvePolicy(policy, overrides))).toEqual(expected);
  });

  it('a policy schedule replaces the default interval', () => {
    const resolved = resolvePolicy({ sync: { schedule: '0 2 * * *' } }, undefined);
    expect(resolved.sync).not.toHaveProperty('interval');
    expect(resolved.sync.schedule).toBe('0 2 * * *');
  });
});

describe('defaultMaxAge', () => {
  const sync = { timeZone: 'Etc/UTC', jitter: '10%', concurrencyPolicy: 'Forbid' as const };
  it.each([
    ['three intervals', { interval: '2h' }, '6h'],
    ['at least an hour', { interval: '1m' }, '1h'],
    ['three of the longest cron gap', { schedule: '0 9 * * 1-5' }, '216h'],
    ['an hour for an invalid cron', { schedule: '61 * * * *' }, '1h'],
    // Three years: 2026-03-05 to 2027 to 2028, the leap year's 366 days the longest gap.
    ['three of a yearly gap, the leap year included', { schedule: '0 0 5 3 *' }, '26352h'],
    // Fires only on 29 February: four years apart (2028, 2032).
    ['three of a leap-day gap', { schedule: '0 0 29 2 *' }, '105192h'],
  ])('%s', (_, trigger, expected) => {
    expect(defaultMaxAge({ ...sync, ...trigger })).toBe(expected);
  });
});
