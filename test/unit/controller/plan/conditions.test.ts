import { describe, expect, it } from 'vitest';
import type { Condition } from '../../../../operator/api/index.ts';
import {
  conditionsEqual,
  getCondition,
  isTrue,
  markReconciling,
  markSettled,
  markStalled,
  removeCondition,
  setCondition,
  sortConditions,
  type ConditionChange,
} from '../../../../operator/controller/plan/conditions.ts';

const earlier = new Date('2026-01-05T10:00:00Z');
const later = new Date('2026-01-05T10:05:00.250Z');

const readyTrue: Condition = {
  type: 'Ready',
  status: 'True',
  observedGeneration: 1,
  lastTransitionTime: '2026-01-05T10:00:00Z',
  reason: 'Succeeded',
  message: 'Last sync succeeded.',
};
const synced: Condition = { ...readyTrue, type: 'Synced' };
const stalled: Condition = {
  ...readyTrue,
  type: 'Stalled',
  reason: 'SecretNotFound',
  message: 'Secret stripe-api not found; create it.',
};

describe('setCondition', () => {
  it.each<[string, Condition[] | undefined, ConditionChange, number | undefined, Condition]>([
    [
      'adds a new condition at now, in whole seconds',
      undefined,
      { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'Last sync succeeded.' },
      1,
      { ...readyTrue, lastTransitionTime: '2026-01-05T10:05:00Z' },
    ],
    [
      'keeps lastTransitionTime when nothing but the generation changes',
      [readyTrue],
      { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'Last sync succeeded.' },
      2,
      { ...readyTrue, observedGeneration: 2 },
    ],
    [
      'moves lastTransitionTime on a status change',
      [readyTrue],
      { type: 'Ready', status: 'False', reason: 'SyncFailed', message: 'Timeout.' },
      1,
      {
        ...readyTrue,
        status: 'False',
        reason: 'SyncFailed',
        message: 'Timeout.',
        lastTransitionTime: '2026-01-05T10:05:00Z',
      },
    ],
    [
      'moves lastTransitionTime on a reason change alone',
      [readyTrue],
      {
        type: 'Ready',
        status: 'True',
        reason: 'PartiallySucceeded',
        message: 'Last sync succeeded.',
      },
      1,
      { ...readyTrue, reason: 'PartiallySucceeded', lastTransitionTime: '2026-01-05T10:05:00Z' },
    ],
    [
      'moves lastTransitionTime on a message change alone',
      [readyTrue],
      { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'Synced 10 records.' },
      1,
      { ...readyTrue, message: 'Synced 10 records.', lastTransitionTime: '2026-01-05T10:05:00Z' },
    ],
    [
      'omits observedGeneration when the object has no generation',
      [],
      { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'Last sync succeeded.' },
      undefined,
      {
        type: 'Ready',
        status: 'True',
        lastTransitionTime: '2026-01-05T10:05:00Z',
        reason: 'Succeeded',
        message: 'Last sync succeeded.',
      },
    ],
  ])('%s', (_name, before, change, generation, expected) => {
    const after = setCondition(before, change, { generation, now: later });
    expect(getCondition(after, change.type)).toEqual(expected);
    expect(after.filter((c) => c.type === change.type)).toHaveLength(1);
  });

  it('returns a new list and leaves the input alone', () => {
    const before = [readyTrue];
    const snapshot = structuredClone(before);
    const after = setCondition(
      before,
      { type: 'Ready', status: 'False', reason: 'SyncFailed', message: 'Timeout.' },
      { generation: 1, now: later },
    );
    expect(after).not.toBe(before);
    expect(before).toEqual(snapshot);
  });

  it('keeps the list sorted', () => {
    let conditions: Condition[] = [];
    for (const type of ['Synced', 'Stalled', 'Degraded', 'Ready', 'Reconciling'] as const) {
      conditions = setCondition(
        conditions,
        { type, status: 'True', reason: 'Succeeded', message: '' },
        { generation: 1, now: earlier },
      );
    }
    expect(conditions.map((c) => c.type)).toEqual([
      'Ready',
      'Reconciling',
      'Stalled',
      'Degraded',
      'Synced',
    ]);
  });
});

describe('removeCondition, getCondition, isTrue', () => {
  const conditions = [readyTrue, stalled, { ...synced, status: 'False' as const }];

  it('removes only the given type, into a new list', () => {
    const after = removeCondition(conditions, 'Stalled');
    expect(after.map((c) => c.type)).toEqual(['Ready', 'Synced']);
    expect(conditions).toHaveLength(3);
    expect(removeCondition(undefined, 'Stalled')).toEqual([]);
  });

  it.each([
    ['Ready', true],
    ['Stalled', true],
    ['Synced', false],
    ['Drifted', false],
  ])('isTrue(%s) is %s', (type, expected) => {
    expect(isTrue(conditions, type)).toBe(expected);
  });

  it('finds nothing in an absent list', () => {
    expect(getCondition(undefined, 'Ready')).toBeUndefined();
    expect(isTrue(undefined, 'Ready')).toBe(false);
  });
});

describe('sortConditions', () => {
  it('puts Ready, Reconciling, Stalled first, then the rest alphabetically', () => {
    const types = ['Suspended', 'Deprecated', 'Stalled', 'Drifted', 'Ready', 'Reconciling'];
    const sorted = sortConditions(types.map((type) => ({ ...readyTrue, type })));
    expect(sorted.map((c) => c.type)).toEqual([
      'Ready',
      'Reconciling',
      'Stalled',
      'Deprecated',
      'Drifted',
      'Suspended',
    ]);
  });
});

describe('conditionsEqual', () => {
  it.each<[string, Condition[] | undefined, Condition[] | undefined, boolean]>([
    ['identical lists', [readyTrue, synced], [{ ...readyTrue }, { ...synced }], true],
    ['absent and empty', undefined, [], true],
    [
      'a different lastTransitionTime',
      [readyTrue],
      [{ ...readyTrue, lastTransitionTime: 'x' }],
      false,
    ],
    [
      'a different observedGeneration',
      [readyTrue],
      [{ ...readyTrue, observedGeneration: 2 }],
      false,
    ],
    [
      'a missing observedGeneration',
      [readyTrue],
      [{ ...readyTrue, observedGeneration: undefined }],
      false,
    ],
    ['a different message', [readyTrue], [{ ...readyTrue, message: 'other' }], false],
    ['an extra condition', [readyTrue], [readyTrue, synced], false],
    ['another order', [readyTrue, synced], [synced, readyTrue], false],
  ])('%s', (_name, a, b, expected) => {
    expect(conditionsEqual(a, b)).toBe(expected);
    expect(conditionsEqual(b, a)).toBe(expected);
  });

  it('sees no change when the same decision is applied twice', () => {
    const change: ConditionChange = {
      type: 'Ready',
      status: 'True',
      reason: 'Succeeded',
      message: 'Last sync succeeded.',
    };
    const once = setCondition([stalled], change, { generation: 1, now: earlier });
    const twice = setCondition(once, change, { generation: 1, now: later });
    expect(conditionsEqual(once, twice)).toBe(true);
  });
});

describe('markStalled, markReconciling, markSettled: never both abnormal conditions', () => {
  const reconciling: Condition = { ...readyTrue, type: 'Reconciling', reason: 'Progressing' };
  const why = { reason: 'InvalidSpec' as const, message: 'spec is invalid: spec.source' };
  const context = { generation: 2, now: later };

  it.each([
    [
      'markStalled removes Reconciling',
      markStalled([reconciling, synced], why, context),
      'Stalled',
    ],
    [
      'markReconciling removes Stalled',
      markReconciling([stalled, synced], why, context),
      'Reconciling',
    ],
  ])('%s', (_name, conditions, present) => {
    expect(conditions.map((c) => c.type)).toEqual([present, 'Synced']);
    expect(getCondition(conditions, present)).toMatchObject({ status: 'True', ...why });
  });

  it('markSettled removes both and keeps the others', () => {
    expect(markSettled([reconciling, stalled, synced])).toEqual([synced]);
  });
});
