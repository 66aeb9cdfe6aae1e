import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Integration, RunRecord } from '../../../operator/api/index.ts';
import { answeringRun, outcomeLine } from '../../../operator/kubectl/actions.ts';
import {
  duration,
  healthTable,
  historyTable,
  relative,
  renderTree,
} from '../../../operator/kubectl/format.ts';
import { latestJob } from '../../../operator/kubectl/inspect.ts';
import { jobHealth } from '../../../operator/kubectl/objects.ts';
import { secretNames } from '../../../operator/kubectl/trace.ts';
import { CLIENT_VERSION, operatorBuild } from '../../../operator/kubectl/version.ts';

const NOW = new Date('2026-01-01T12:00:00Z');

const run = (over: Partial<RunRecord>): RunRecord => ({
  jobName: 'orders-sync-1',
  kind: 'sync',
  attempt: 1,
  startTime: '2026-01-01T11:58:00Z',
  completionTime: '2026-01-01T11:58:07Z',
  outcome: 'Succeeded',
  stats: { read: 3, written: 2, unchanged: 1, quarantined: 0, failed: 0 },
  ...over,
});

function integration(name: string, status: Integration['status'], suspend = false): Integration {
  return {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'Integration',
    metadata: { name, namespace: 'shop' },
    spec: { suspend },
    status,
  } as unknown as Integration;
}

describe('kubectl tributary formatting', () => {
  it('relative times, past and future', () => {
    expect(relative('2026-01-01T11:59:30Z', NOW)).toBe('30s ago');
    expect(relative('2026-01-01T12:10:00Z', NOW)).toBe('in 10m');
    expect(relative('2025-12-30T12:00:00Z', NOW)).toBe('2d ago');
    expect(relative(undefined, NOW)).toBe('-');
  });

  it('get: aligned columns, SUSPENDED, NAMESPACE with -A, no NEXT SYNC while suspended', () => {
    const ready = {
      conditions: [
        {
          type: 'Ready',
          status: 'True' as const,
          reason: 'Succeeded',
          message: 'read 3',
          lastTransitionTime: '2026-01-01T11:58:07Z',
        },
      ],
    };
    const rows = [
      integration('orders', { ...ready, lastSync: run({}), nextSyncTime: '2026-01-01T12:05:00Z' }),
      integration('refunds', undefined, true),
    ] as Integration[];
    expect(healthTable(rows, false, NOW).split('\n')).toEqual([
      'NAME      READY     SUSPENDED   LAST SYNC   NEXT SYNC   MESSAGE',
      'orders    True      False       113s ago    in 5m       read 3',
      'refunds   Unknown   True        -           -           ',
    ]);
    expect(healthTable(rows, true, NOW).split('\n')[1]).toMatch(/^shop {8}orders /);
  });

  it('history: newest first from status.history, the active run on top, counts and duration', () => {
    const drift = run({
      jobName: 'orders-drift-1',
      kind: 'drift-check',
      stats: undefined,
      drift: { missing: 1, unexpected: 0, mismatched: 2 },
    });
    const failed = run({
      jobName: 'orders-sync-0',
      outcome: 'Failed',
      reason: 'DeadlineExceeded',
      completionTime: undefined,
    });
    const lines = historyTable(
      integration('orders', {
        history: [drift, failed],
        activeRun: {
          jobName: 'orders-sync-2',
          kind: 'sync',
          attempt: 1,
          dueTime: '2026-01-01T11:59:00Z',
        },
      }),
      NOW,
    ).split('\n');
    expect(lines[0]).toMatch(
      /^JOB\s+KIND\s+ATTEMPT\s+OUTCOME\s+FINISHED\s+DURATION\s+REASON\s+COUNTS$/,
    );
    expect(lines[1]).toMatch(/^orders-sync-2\s+sync\s+1\s+Running/);
    expect(lines[2]).toMatch(
      /^orders-drift-1\s+drift-check\s+1\s+Succeeded\s+113s ago\s+7s\s+missing=1 unexpected=0 mismatched=2$/,
    );
    expect(lines[3]).toMatch(
      /^orders-sync-0\s+sync\s+1\s+Failed\s+-\s+-\s+DeadlineExceeded\s+read=3 written=2/,
    );
    // No status.history: the last sync and drift check.
    expect(historyTable(integration('orders', { lastSync: run({}) }), NOW)).toContain(
      'orders-sync-1',
    );
    expect(duration(run({ completionTime: '2026-01-01T12:01:05Z' }))).toBe('3m5s');
  });

  it('trace: a tree with each node’s health', () => {
    const tree = renderTree({
      label: 'Integration/shop/orders',
      health: 'Ready=True',
      children: [
        { label: 'Secret/api', health: 'Found', children: [] },
        {
          label: 'Job/orders-1',
          health: 'Complete',
          children: [{ label: 'Pod/orders-1-x', health: 'Succeeded', children: [] }],
        },
      ],
    });
    expect(tree.split('\n')).toEqual([
      'Integration/shop/orders  [Ready=True]',
      '├── Secret/api  [Found]',
      '└── Job/orders-1  [Complete]',
      '    └── Pod/orders-1-x  [Succeeded]',
    ]);
  });

  it('trace names the referenced Secrets only, from every *Ref with name and key', () => {
    const spec = {
      policyRef: { name: 'standard' },
      source: { credentialsRef: { name: 'stripe', key: 'api-key' } },
      destination: { credentialsRef: { name: 'warehouse', key: 'token' } },
      webhook: { secretRef: { name: 'stripe', key: 'whsec' } },
    };
    expect(secretNames(spec)).toEqual(['stripe', 'warehouse']);
  });

  it('Job health from its conditions; the latest Job by creation', () => {
    expect(
      jobHealth({
        metadata: { name: 'a' },
        status: { conditions: [{ type: 'Complete', status: 'True' }] },
      }),
    ).toBe('Complete');
    expect(
      jobHealth({
        metadata: { name: 'a' },
        status: {
          conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
        },
      }),
    ).toBe('Failed BackoffLimitExceeded');
    expect(jobHealth({ metadata: { name: 'a' }, status: { active: 1 } })).toBe('Running');
    const jobs = [
      { metadata: { name: 'old', creationTimestamp: '2026-01-01T10:00:00Z' } },
      { metadata: { name: 'new', creationTimestamp: '2026-01-01T11:00:00Z' } },
    ];
    expect(latestJob(jobs)?.metadata.name).toBe('new');
    expect(latestJob([])).toBeUndefined();
  });

  it('sync --wait answers with the run of the requested Job, or the first one started since the request', () => {
    const since = Date.parse('2026-01-01T11:57:59Z');
    const status = {
      history: [run({ jobName: 'b' }), run({ jobName: 'a', startTime: '2026-01-01T11:00:00Z' })],
    };
    expect(answeringRun(integration('o', status), 'sync', 'a', since)?.jobName).toBe('a');
    expect(answeringRun(integration('o', status), 'sync', undefined, since)?.jobName).toBe('b');
    expect(answeringRun(integration('o', status), 'drift-check', undefined, since)).toBeUndefined();
    expect(
      answeringRun(integration('o', status), 'sync', undefined, Date.parse('2026-01-01T12:00:00Z')),
    ).toBeUndefined();
    expect(outcomeLine(run({ outcome: 'Failed', reason: 'InvalidResult' }))).toBe(
      'sync run orders-sync-1 Failed (InvalidResult) in 7s: read=3 written=2 unchanged=1 quarantined=0 failed=0',
    );
  });

  it('version: the client build is the package version; the operator build from its Deployments', () => {
    const pkg = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8'),
    ) as { version: string; bin: Record<string, string> };
    expect(CLIENT_VERSION).toBe(pkg.version);
    expect(pkg.bin['kubectl-tributary']).toBe(pkg.bin.tributary);
    expect(operatorBuild([])).toMatch(/^unknown \(no operator Deployment/);
    expect(
      operatorBuild([
        {
          metadata: { name: 'tributary-operator', namespace: 'tributary-system' },
          spec: {
            template: {
              spec: { containers: [{ name: 'operator', image: 'ghcr.io/x/tributary:0.1.0' }] },
            },
          },
        },
      ]),
    ).toBe('ghcr.io/x/tributary:0.1.0 (deployment tributary-system/tributary-operator)');
  });
});
