import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { untruth } from '../../chaos/support/status-truth.ts';

const FROM = Date.parse('2026-12-03T10:00:00Z');
const job = (name: string, done: boolean): V1Job => ({
  metadata: { name },
  status: done ? { conditions: [{ type: 'Complete', status: 'True' }] } : {},
});
const item = (activeRun?: string, lastScheduledTime?: string) => ({
  metadata: { name: 'i' },
  status: {
    ...(activeRun ? { activeRun: { jobName: activeRun } } : {}),
    ...(lastScheduledTime ? { lastScheduledTime } : {}),
  },
});

describe('untruth: is a status true to its Jobs after a restart', () => {
  it.each([
    ['the running Job shown as active', item('j2'), [job('j1', true), job('j2', false)], undefined],
    ['an active run that has finished', item('j1'), [job('j1', true)], 'active j1 has finished'],
    ['a running Job not shown', item(), [job('j3', false)], 'running j3 not shown'],
    [
      'nothing running, a run started since',
      item(undefined, '2026-12-03T10:00:05Z'),
      [],
      undefined,
    ],
    [
      'nothing running, nothing started since',
      item(undefined, '2026-12-03T09:59:55Z'),
      [],
      'no run started since (last 2026-12-03T09:59:55Z)',
    ],
    ['never scheduled', item(), [], 'no run started since (last undefined)'],
  ])('%s', (_what, status, jobs, expected) => {
    expect(untruth(status, jobs, FROM)).toBe(expected);
  });
});
