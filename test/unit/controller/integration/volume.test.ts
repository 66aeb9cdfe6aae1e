import { describe, expect, it } from 'vitest';
import {
  resolvePolicy,
  VOLUME_ACKNOWLEDGED_ANNOTATION,
  type RunRecord,
} from '../../../../operator/api/index.ts';
import {
  volumeAcknowledgement,
  volumeCondition,
} from '../../../../operator/controller/integration/volume.ts';

const policy = resolvePolicy(undefined, undefined).volume;

/** A successful pass `n` minutes after 10:00 that read `read` records. */
function pass(n: number, read: number, outcome: RunRecord['outcome'] = 'Succeeded'): RunRecord {
  const time = new Date(Date.parse('2026-01-05T10:00:00Z') + n * 60_000);
  return {
    jobName: `x-s-${String(n)}-1`,
    kind: 'sync',
    attempt: 1,
    completionTime: time.toISOString().replace('.000', ''),
    outcome,
    stats: { read, written: read, unchanged: 0, quarantined: 0, failed: 0 },
  };
}

/** Status with passes reading `reads`, oldest first; the last is lastSync. */
function status(reads: readonly number[], extra: { volumeBaselineSince?: string } = {}) {
  const history = reads.map((read, i) => pass(i, read)).reverse();
  return { history, lastSync: history[0], ...extra };
}

interface Row {
  name: string;
  reads: number[];
  expected: { status: string; reason: string; message?: unknown };
}

const rows: Row[] = [
  { name: 'no pass yet', reads: [], expected: { status: 'Unknown', reason: 'VolumeUnknown' } },
  {
    name: 'one pass: nothing to compare with',
    reads: [100],
    expected: { status: 'Unknown', reason: 'VolumeUnknown' },
  },
  {
    name: 'steady volume',
    reads: [100, 110, 95, 105],
    expected: { status: 'False', reason: 'VolumeInRange' },
  },
  {
    name: 'an empty pass after non-empty ones',
    reads: [100, 110, 0],
    expected: {
      status: 'True',
      reason: 'VolumeOutOfRange',
      message: expect.stringContaining(
        'read 0 records; the 2 passes before it read a median of 105',
      ) as unknown,
    },
  },
  {
    name: 'a drop below minRatio',
    reads: [100, 100, 100, 5],
    expected: { status: 'True', reason: 'VolumeOutOfRange' },
  },
  {
    name: 'a spike above maxRatio',
    reads: [100, 100, 100, 5000],
    expected: { status: 'True', reason: 'VolumeOutOfRange' },
  },
  {
    name: 'an empty source stays empty: not an anomaly',
    reads: [0, 0, 0],
    expected: { status: 'False', reason: 'VolumeInRange' },
  },
  {
    name: 'back in range after an outlier',
    reads: [100, 100, 0, 100],
    expected: { status: 'False', reason: 'VolumeInRange' },
  },
  {
    name: 'only the window counts',
    reads: [5, 5, 5, 5, 5, 5, 100, 100, 100, 100, 100, 100],
    expected: { status: 'False', reason: 'VolumeInRange' },
  },
];

describe('volumeCondition: the volume guard', () => {
  it.each(rows)('$name', ({ reads, expected }) => {
    expect(volumeCondition({ policy, status: status(reads) })).toMatchObject(expected);
  });

  it('ignores failed passes', () => {
    const s = status([100, 100]);
    s.history.unshift(pass(9, 0, 'Failed'));
    expect(volumeCondition({ policy, status: s })).toMatchObject({ reason: 'VolumeInRange' });
  });

  it('volume.mode Off checks nothing', () => {
    const off = { ...policy, mode: 'Off' as const };
    expect(volumeCondition({ policy: off, status: status([100, 0]) })).toMatchObject({
      status: 'Unknown',
      message: expect.stringContaining('Off') as unknown,
    });
  });

  it('an volumeAcknowledgement makes the anomalous pass the new baseline', () => {
    const before = status([100, 100, 100, 5]);
    const ack = volumeAcknowledgement({ [VOLUME_ACKNOWLEDGED_ANNOTATION]: 'now' }, before);
    expect(ack).toEqual({
      lastHandledVolumeAcknowledgement: 'now',
      volumeBaselineSince: before.lastSync?.completionTime,
    });
    expect(volumeCondition({ policy, status: { ...before, ...ack } })).toMatchObject({
      status: 'False',
      reason: 'VolumeAcknowledged',
    });
    // The next pass at the new volume compares with the acknowledged one only.
    const after = status([100, 100, 100, 5, 6], ack);
    expect(volumeCondition({ policy, status: after })).toMatchObject({ reason: 'VolumeInRange' });
    // A handled value is not acted on again.
    expect(
      volumeAcknowledgement({ [VOLUME_ACKNOWLEDGED_ANNOTATION]: 'now' }, { ...after, ...ack }),
    ).toEqual({});
  });
});
