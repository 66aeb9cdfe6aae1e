import { describe, expect, it } from 'vitest';
import { resolvePolicy, type RunKind, type RunRecord } from '../../../../operator/api/index.ts';
import {
  HISTORY_CAP,
  pruneJobs,
  recordRuns,
} from '../../../../operator/controller/integration/record.ts';
import type { ObservedRun } from '../../../../operator/controller/integration/runs.ts';

const base = Date.parse('2026-01-05T10:00:00Z');

function run(
  kind: RunKind,
  minute: number,
  outcome: RunRecord['outcome'] = 'Succeeded',
): ObservedRun {
  const time = new Date(base + minute * 60_000);
  const jobName = `x-${kind === 'sync' ? 's' : 'd'}-${String(minute)}-1`;
  return {
    jobName,
    kind,
    attempt: 1,
    dueTime: time,
    createdAt: time,
    phase: 'Finished',
    record: {
      jobName,
      kind,
      attempt: 1,
      completionTime: new Date(time.getTime() + 30_000).toISOString().replace('.000', ''),
      outcome,
      ...(kind === 'drift-check' ? { drift: { missing: 1, unexpected: 0, mismatched: 2 } } : {}),
    },
  };
}

describe('recordRuns and pruneJobs: each kind has its own budget', () => {
  it('keeps HISTORY_CAP records of each kind: frequent checks never push syncs out', () => {
    const syncs = Array.from({ length: 3 }, (_, i) => run('sync', i));
    const checks = Array.from({ length: HISTORY_CAP + 5 }, (_, i) => run('drift-check', 10 + i));
    const { status } = recordRuns({}, [...syncs, ...checks]);
    const kinds = status.history?.map((record) => record.kind) ?? [];
    expect(kinds.filter((kind) => kind === 'sync')).toHaveLength(3);
    expect(kinds.filter((kind) => kind === 'drift-check')).toHaveLength(HISTORY_CAP);
    expect(status.lastDriftCheck?.jobName).toBe(checks.at(-1)?.jobName);
    expect(status.history?.[0]?.drift).toEqual({ missing: 1, unexpected: 0, mismatched: 2 });
  });

  it('records a failed drift check as the last drift check, without touching lastSync', () => {
    const failed = run('drift-check', 5, 'Failed');
    const { status } = recordRuns({}, [failed]);
    expect(status.lastDriftCheck).toMatchObject({ outcome: 'Failed' });
    expect(status.lastSync).toBeUndefined();
  });

  it('prunes sync and drift-check Jobs against budgets counted apart', () => {
    const policy = resolvePolicy(undefined, { history: { successfulRuns: 1, failedRuns: 1 } });
    const runs = [
      run('sync', 0, 'Failed'),
      run('sync', 1),
      run('drift-check', 2, 'Failed'),
      run('drift-check', 3, 'Failed'),
      run('drift-check', 4),
    ];
    expect(pruneJobs(runs, policy).sort()).toEqual(['x-d-2-1']);
  });
});
