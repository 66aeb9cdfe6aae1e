import { describe, expect, it } from 'vitest';
import { QUARANTINE_ACKNOWLEDGED_ANNOTATION } from '../../../../operator/api/index.ts';
import {
  heldIds,
  mergeQuarantine,
  QUARANTINE_LIST_CAP,
  quarantineAcknowledgement,
  type HeldQuarantine,
  type PassQuarantine,
} from '../../../../operator/controller/integration/quarantine.ts';

const T1 = '2026-01-05T10:00:00Z';
const T2 = '2026-01-05T11:00:00Z';
const held = (id: string, firstSeen = T1, reason = 'InvalidRecord: email: is required') => ({
  id,
  reason,
  firstSeen,
});
const bad = (id: string, reason = 'InvalidRecord: email: is required') => ({ id, reason });
const many = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

const table: [string, HeldQuarantine | undefined, PassQuarantine | undefined, HeldQuarantine][] = [
  ['nothing held, a clean pass', undefined, { count: 0, new: 0, full: true }, { count: 0 }],
  [
    'new records join, first seen at the pass',
    undefined,
    { count: 2, new: 2, samples: [bad('a'), bad('b')], full: false },
    { count: 2, samples: [held('a', T2), held('b', T2)] },
  ],
  [
    'an incremental pass that no longer sees them keeps them held',
    { count: 2, samples: [held('a'), held('b')] },
    { count: 0, new: 0, full: false },
    { count: 2, samples: [held('a'), held('b')] },
  ],
  [
    'released ids leave; a new one joins after the older ones',
    { count: 2, samples: [held('a'), held('b')] },
    { count: 1, new: 1, samples: [bad('c')], released: ['a'], releasedCount: 1, full: false },
    { count: 2, samples: [held('b'), held('c', T2)] },
  ],
  [
    'a held record seen again keeps its first-seen time and takes the new reason',
    { count: 1, samples: [held('a')] },
    { count: 1, new: 1, samples: [bad('a', 'Conflict: 409')], full: false },
    { count: 1, samples: [held('a', T1, 'Conflict: 409')] },
  ],
  [
    'new records beyond the samples are counted, not listed',
    { count: 1, samples: [held('a')] },
    { count: 12, new: 12, samples: many(10, 'n').map((id) => bad(id)), full: false },
    { count: 13, samples: [held('a'), ...many(10, 'n').map((id) => held(id, T2))] },
  ],
  [
    'an incremental pass keeps the unlisted count',
    { count: 5, samples: [held('a')] },
    { count: 0, new: 0, released: ['a'], releasedCount: 1, full: false },
    { count: 4 },
  ],
  [
    'a full pass recounts the unlisted ones from what it saw',
    { count: 5, samples: [held('a')] },
    { count: 3, new: 2, samples: [bad('x')], full: true },
    { count: 3, samples: [held('a'), held('x', T2)] },
  ],
  [
    'the list stops at its cap; the rest is counted',
    { count: QUARANTINE_LIST_CAP, samples: many(QUARANTINE_LIST_CAP, 'h').map((id) => held(id)) },
    { count: 2, new: 2, samples: [bad('y'), bad('z')], full: false },
    {
      count: QUARANTINE_LIST_CAP + 2,
      samples: many(QUARANTINE_LIST_CAP, 'h').map((id) => held(id)),
    },
  ],
  [
    'a result without `new` (a custom connector) is a whole report: unlisted recounted',
    { count: 9, samples: [held('a')] },
    { count: 2, samples: [bad('b')] },
    { count: 3, samples: [held('a'), held('b', T2)] },
  ],
  [
    'a record listed by an older operator (no firstSeen) stays, listed first',
    { count: 1, samples: [bad('old')] },
    { count: 1, new: 1, samples: [bad('b')], full: false },
    { count: 2, samples: [bad('old'), held('b', T2)] },
  ],
  [
    'a run without a quarantine report changes nothing',
    { count: 2, samples: [held('a')] },
    undefined,
    { count: 2, samples: [held('a')] },
  ],
];

describe('mergeQuarantine: held + new − released', () => {
  it.each(table)('%s', (_name, before, pass, after) => {
    expect(mergeQuarantine(before, pass, T2)).toEqual(after);
  });
});

describe('quarantineAcknowledgement', () => {
  it('drops everything held on a new value, once', () => {
    const annotations = { [QUARANTINE_ACKNOWLEDGED_ANNOTATION]: '1767607200' };
    const ack = quarantineAcknowledgement(annotations, {});
    expect(ack).toEqual({
      lastHandledQuarantineAcknowledgement: '1767607200',
      quarantine: { count: 0 },
    });
    expect(quarantineAcknowledgement(annotations, ack)).toEqual({});
    expect(quarantineAcknowledgement({}, {})).toEqual({});
  });
});

describe('heldIds', () => {
  it('are the listed records, for the run input', () => {
    expect(heldIds({ count: 7, samples: [held('a'), held('b')] })).toEqual(['a', 'b']);
    expect(heldIds(undefined)).toEqual([]);
  });
});
