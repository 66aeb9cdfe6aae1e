import { describe, expect, it } from 'vitest';
import {
  formatMark,
  inWindow,
  incrementalSince,
  judgeWindow,
  toEpochMs,
  type JudgeWindow,
} from '../../../../operator/runtime/gaps/window.ts';

const T = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe('toEpochMs', () => {
  it.each([
    ['an RFC 3339 date', '2025-01-01T00:00:00Z', T('2025-01-01T00:00:00Z')],
    ['a date in another offset', '2025-01-01T01:00:00+01:00', T('2025-01-01T00:00:00Z')],
    ['epoch seconds (number)', 1_735_689_600, T('2025-01-01T00:00:00Z')],
    ['epoch seconds (string)', '1735689600', T('2025-01-01T00:00:00Z')],
    ['epoch milliseconds', 1_735_689_600_000, T('2025-01-01T00:00:00Z')],
    ['a revision counter', 17, undefined],
    ['a revision counter as text', '42', undefined],
    ['no value', undefined, undefined],
    ['null', null, undefined],
    ['not a date', 'yesterday-ish', undefined],
    ['an empty string', '', undefined],
  ] as const)('%s', (_name, value, expected) => {
    expect(toEpochMs(value)).toBe(expected);
  });
});

describe('judgeWindow', () => {
  const start = T('2025-01-01T12:00:00Z');
  it.each<[string, string | undefined, number, JudgeWindow]>([
    [
      'first pass: judges nothing, sets the mark at start − grace',
      undefined,
      2 * MIN,
      { from: undefined, to: start - 2 * MIN, judging: false },
    ],
    [
      'later pass: (previous mark, start − grace]',
      '2025-01-01T11:00:00.000Z',
      2 * MIN,
      { from: T('2025-01-01T11:00:00Z'), to: start - 2 * MIN, judging: true },
    ],
    [
      'no grace: up to the pass start',
      '2025-01-01T11:00:00.000Z',
      0,
      { from: T('2025-01-01T11:00:00Z'), to: start, judging: true },
    ],
    [
      'a grace longer than the time since the mark: empty, the mark stays',
      '2025-01-01T11:59:00.000Z',
      5 * MIN,
      { from: T('2025-01-01T11:59:00Z'), to: T('2025-01-01T11:59:00Z'), judging: true },
    ],
    [
      'an unreadable mark counts as none',
      'garbage',
      0,
      { from: undefined, to: start, judging: false },
    ],
  ])('%s', (_name, mark, grace, expected) => {
    expect(judgeWindow(mark, start, grace)).toEqual(expected);
  });
});

describe('inWindow', () => {
  const window: JudgeWindow = {
    from: T('2025-01-01T11:00:00Z'),
    to: T('2025-01-01T11:58:00Z'),
    judging: true,
  };
  it.each([
    ['at the previous mark (judged by the pass before)', '2025-01-01T11:00:00Z', false],
    ['just after the previous mark', '2025-01-01T11:00:00.001Z', true],
    ['at the cut', '2025-01-01T11:58:00Z', true],
    ['inside the grace (judged by the next pass)', '2025-01-01T11:59:00Z', false],
    ['epoch seconds inside (11:01)', 1_735_729_200 + 60, true],
    ['no updated value', undefined, false],
    ['a revision counter', 7, false],
  ] as const)('%s → %s', (_name, updated, expected) => {
    expect(inWindow(window, updated)).toBe(expected);
  });

  it('a first pass judges nothing', () => {
    expect(inWindow({ from: undefined, to: Number.MAX_SAFE_INTEGER, judging: false }, 'x')).toBe(
      false,
    );
    expect(
      inWindow({ from: undefined, to: T('2026-01-01T00:00:00Z'), judging: false }, '2025-06-01'),
    ).toBe(false);
  });

  it('consecutive passes judge every change exactly once', () => {
    // Passes every 10 minutes with a 3 minute grace; changes every 17 seconds over an hour.
    const changes = Array.from({ length: 220 }, (_, i) => T('2025-01-01T10:00:00Z') + i * 17_000);
    const judged = new Map<number, number>();
    let mark: string | undefined = formatMark(T('2025-01-01T09:59:00Z'));
    for (let pass = 1; pass <= 9; pass++) {
      const w = judgeWindow(mark, T('2025-01-01T10:00:00Z') + pass * 10 * MIN, 3 * MIN);
      for (const at of changes)
        if (inWindow(w, new Date(at).toISOString())) judged.set(at, (judged.get(at) ?? 0) + 1);
      mark = formatMark(w.to);
    }
    const last = T('2025-01-01T10:00:00Z') + 9 * 10 * MIN - 3 * MIN;
    const due = changes.filter((at) => at <= last);
    expect(due.length).toBe(changes.length);
    expect([...judged.values()].every((n) => n === 1)).toBe(true);
    expect(judged.size).toBe(due.length);
  });
});

describe('incrementalSince', () => {
  it.each([
    ['no high-water mark: a full pass', undefined, '2025-01-01T00:00:00.000Z', undefined],
    [
      'no judge mark: the high-water mark',
      '2025-01-01T10:00:00Z',
      undefined,
      '2025-01-01T10:00:00Z',
    ],
    [
      'the judge mark when earlier, in the high-water format (whole seconds)',
      '2025-01-01T10:00:00Z',
      '2025-01-01T09:57:30.500Z',
      '2025-01-01T09:57:30Z',
    ],
    [
      'the judge mark with milliseconds when the high-water has them',
      '2025-01-01T10:00:00.250Z',
      '2025-01-01T09:57:30.500Z',
      '2025-01-01T09:57:30.500Z',
    ],
    [
      'the high-water mark when earlier',
      '2025-01-01T09:00:00Z',
      '2025-01-01T09:57:30.000Z',
      '2025-01-01T09:00:00Z',
    ],
    ['epoch seconds, rounded down', '1735725600', '2025-01-01T09:57:30.500Z', '1735725450'],
    ['epoch milliseconds', '1735725600000', '2025-01-01T09:57:30.500Z', '1735725450500'],
    ['a high-water mark that is not a time', '42', '2025-01-01T09:57:30.500Z', '42'],
  ] as const)('%s', (_name, highWater, mark, expected) => {
    expect(incrementalSince(highWater, mark)).toBe(expected);
  });
});
