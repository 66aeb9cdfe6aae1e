import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CrashPoints, faultSettings } from '../../../../operator/controller/integration/faults.ts';
import type { IntegrationWrites } from '../../../../operator/controller/integration/ports.ts';
import { silentLogger } from '../machinery/support.ts';

const ctx = { log: silentLogger(), signal: new AbortController().signal };
const job: V1Job = { metadata: { name: 'a-sync-1' } };

function inner(calls: string[]): IntegrationWrites {
  return {
    createJob: () => (calls.push('create'), Promise.resolve('created')),
    deleteJob: () => (calls.push('delete'), Promise.resolve()),
    getJob: () => Promise.resolve(undefined),
    updateStatus: () => (calls.push('status'), Promise.resolve()),
    recordEvent: () => Promise.resolve(),
    forgetEvents: () => calls.push('forget'),
  };
}

describe('faultSettings', () => {
  it.each([
    [{}, [], 1],
    [{ TRIBUTARY_FAULT_INJECTION: 'crash-after-job-create' }, ['crash-after-job-create'], 1],
    [
      {
        TRIBUTARY_FAULT_INJECTION: 'crash-after-job-delete, nonsense,crash-mid-status-write',
        TRIBUTARY_FAULT_PROBABILITY: '0.25',
      },
      ['crash-mid-status-write', 'crash-after-job-delete'],
      0.25,
    ],
  ])('%o → %o at %d', (env, points, probability) => {
    expect(faultSettings(env)).toEqual({ points, probability });
  });
});

describe('CrashPoints', () => {
  it('crashes after the write it follows, only at armed points', async () => {
    const calls: string[] = [];
    const writes = new CrashPoints(inner(calls), {
      points: ['crash-after-job-create'],
      probability: 1,
      crash: () => calls.push('crash'),
    });
    await writes.deleteJob('ns', 'old', ctx);
    await writes.createJob(job, ctx);
    expect(calls).toEqual(['delete', 'create', 'crash']);
  });

  it('does not crash when the draw is above the probability', async () => {
    const calls: string[] = [];
    const writes = new CrashPoints(inner(calls), {
      points: ['crash-after-job-create', 'crash-after-job-delete'],
      probability: 0.5,
      random: () => 0.7,
      crash: () => calls.push('crash'),
    });
    await writes.createJob(job, ctx);
    await writes.deleteJob('ns', 'old', ctx);
    expect(calls).toEqual(['create', 'delete']);
  });

  it('crashes mid status write: the write was sent, the crash follows before its answer is used', async () => {
    const calls: string[] = [];
    const writes = new CrashPoints(inner(calls), {
      points: ['crash-mid-status-write'],
      probability: 1,
      random: () => 0,
      crash: () => calls.push('crash'),
    });
    await writes.updateStatus({ namespace: 'ns', name: 'a' }, {}, ctx);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(calls).toEqual(['status', 'crash']);
  });
});
