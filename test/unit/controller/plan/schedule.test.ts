import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../../../operator/api/index.ts';
import { rfc3339 } from '../../../../operator/lib/time.ts';
import {
  delayUntil,
  jitterFraction,
  planSchedule,
  type ScheduleInput,
  type SchedulePlan,
  type Trigger,
} from '../../../../operator/controller/plan/schedule.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UID = '6f1c2a3e-0d7b-4a0c-9f57-1b2c3d4e5f60';

const at = (text: string) => new Date(text);
const plus = (time: Date, ms: number) => new Date(time.getTime() + ms);

/** Plans and unwraps, failing the test on an error result. */
function plan(input: ScheduleInput): SchedulePlan {
  const result = planSchedule(input);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.plan;
}

/** The plan as strings, for readable table rows. */
function show(p: SchedulePlan) {
  return {
    due: p.due === undefined ? undefined : rfc3339(p.due),
    missed: p.missed,
    tooLate: p.tooLate,
    next: rfc3339(p.next),
  };
}

describe('planSchedule with an interval', () => {
  // Named time fixtures, as in the CronJob controller's tests.
  const created = at('2026-01-05T10:00:00Z');
  const beforeCreation = plus(created, -MINUTE);
  const fiveMinutesIn = plus(created, 5 * MINUTE);
  const firstInterval = plus(created, 15 * MINUTE);
  const secondInterval = plus(created, 30 * MINUTE);
  const oneHourIn = plus(created, HOUR);
  const fortyMinutesIn = plus(created, 40 * MINUTE);
  const sixMinutesLate = plus(firstInterval, 6 * MINUTE);
  const fiveMinutesLate = plus(firstInterval, 5 * MINUTE);
  const aYearLater = plus(created, 365 * DAY + 7 * MINUTE);
  const every15m: Trigger = { interval: '15m', timeZone: 'Etc/UTC', jitter: '0%' };
  const withDeadline: Trigger = { ...every15m, startingDeadline: '5m' };

  it.each<[string, Trigger, Date | undefined, Date, ReturnType<typeof show>]>([
    [
      'a new Integration is due at once',
      every15m,
      undefined,
      created,
      { due: '2026-01-05T10:00:00Z', missed: 0, tooLate: false, next: '2026-01-05T10:15:00Z' },
    ],
    [
      'nothing is due before creation (clock skew)',
      every15m,
      undefined,
      beforeCreation,
      { due: undefined, missed: 0, tooLate: false, next: '2026-01-05T10:00:00Z' },
    ],
    [
      'between two due times after the first run',
      every15m,
      created,
      fiveMinutesIn,
      { due: undefined, missed: 0, tooLate: false, next: '2026-01-05T10:15:00Z' },
    ],
    [
      'exactly on the next due time',
      every15m,
      created,
      firstInterval,
      { due: '2026-01-05T10:15:00Z', missed: 0, tooLate: false, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'the run just started is not due again',
      every15m,
      firstInterval,
      firstInterval,
      { due: undefined, missed: 0, tooLate: false, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'operator down for an hour: the latest is due, three missed',
      every15m,
      created,
      oneHourIn,
      { due: '2026-01-05T11:00:00Z', missed: 3, tooLate: false, next: '2026-01-05T11:15:00Z' },
    ],
    [
      'never started: creation and 10:15 are superseded by 10:30',
      every15m,
      undefined,
      fortyMinutesIn,
      { due: '2026-01-05T10:30:00Z', missed: 2, tooLate: false, next: '2026-01-05T10:45:00Z' },
    ],
    [
      'past the starting deadline: too late, counted as missed',
      withDeadline,
      created,
      sixMinutesLate,
      { due: '2026-01-05T10:15:00Z', missed: 1, tooLate: true, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'exactly at the starting deadline: still in time',
      withDeadline,
      created,
      fiveMinutesLate,
      { due: '2026-01-05T10:15:00Z', missed: 0, tooLate: false, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'down for a year: computed arithmetically',
      withDeadline,
      secondInterval,
      aYearLater,
      { due: '2027-01-05T10:00:00Z', missed: 35038, tooLate: true, next: '2027-01-05T10:15:00Z' },
    ],
    [
      'a last run after now (clock skew) is never repeated',
      every15m,
      secondInterval,
      fiveMinutesIn,
      { due: undefined, missed: 0, tooLate: false, next: '2026-01-05T10:45:00Z' },
    ],
  ])('%s', (_name, trigger, lastScheduledTime, now, expected) => {
    expect(show(plan({ trigger, uid: UID, createdAt: created, lastScheduledTime, now }))).toEqual(
      expected,
    );
  });

  it('delays runs after the first by the same jitter offset, in whole seconds', () => {
    const trigger: Trigger = { interval: '15m', timeZone: 'Etc/UTC', jitter: '10%' };
    const offset = Math.floor(jitterFraction(UID) * 0.1 * 900) * 1000;
    const input = { trigger, uid: UID, createdAt: created };
    expect(plan({ ...input, now: created }).due).toEqual(created);
    const first = plus(created, 15 * MINUTE + offset);
    expect(plan({ ...input, lastScheduledTime: created, now: created }).next).toEqual(first);
    expect(
      plan({ ...input, lastScheduledTime: created, now: plus(first, -1) }).due,
    ).toBeUndefined();
    expect(plan({ ...input, lastScheduledTime: created, now: first }).due).toEqual(first);
    expect(plan({ ...input, lastScheduledTime: first, now: first }).next).toEqual(
      plus(created, 30 * MINUTE + offset),
    );
  });

  it('spreads many integrations over [0, jitter × interval) and keeps each one stable', () => {
    const trigger: Trigger = { interval: '15m', timeZone: 'Etc/UTC', jitter: '10%' };
    const offsets = Array.from({ length: 500 }, (_, i) => {
      const input = { trigger, uid: `uid-${i}`, createdAt: created, lastScheduledTime: created };
      const next = plan({ ...input, now: created }).next;
      expect(plan({ ...input, now: created }).next).toEqual(next);
      return next.getTime() - firstInterval.getTime();
    });
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(90_000);
    expect(offsets.every((offset) => offset % 1000 === 0)).toBe(true);
    expect(new Set(offsets).size).toBeGreaterThan(60);
  });

  it('anchors on whole seconds so due times survive a round trip through status', () => {
    const createdWithMillis = at('2026-01-05T10:00:00.750Z');
    const trigger: Trigger = { interval: '10.5s', timeZone: 'Etc/UTC', jitter: '10%' };
    const p = plan({ trigger, uid: UID, createdAt: createdWithMillis, now: plus(created, HOUR) });
    expect(p.due?.getTime()).toBeDefined();
    expect((p.due?.getTime() ?? 1) % 1000).toBe(0);
    expect(p.next.getTime() % 1000).toBe(0);
  });
});

describe('planSchedule with a cron schedule', () => {
  const utc = (schedule: string, extra: Partial<Trigger> = {}): Trigger => ({
    schedule,
    timeZone: 'Etc/UTC',
    jitter: '0%',
    ...extra,
  });
  const created = at('2026-01-05T10:07:00Z');
  const atCreation = created;
  const topOfQuarter = at('2026-01-05T10:15:00Z');
  const justAfterQuarter = at('2026-01-05T10:16:30Z');
  const justAfterEleven = at('2026-01-05T11:01:00Z');
  const aYearLater = at('2027-01-05T10:15:00Z');

  it.each<[string, Trigger, Date | undefined, Date, ReturnType<typeof show>]>([
    [
      'no run at creation: the first fire time is awaited',
      utc('*/15 * * * *'),
      undefined,
      atCreation,
      { due: undefined, missed: 0, tooLate: false, next: '2026-01-05T10:15:00Z' },
    ],
    [
      'on the fire time',
      utc('*/15 * * * *'),
      undefined,
      topOfQuarter,
      { due: '2026-01-05T10:15:00Z', missed: 0, tooLate: false, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'a little after the fire time',
      utc('*/15 * * * *'),
      undefined,
      justAfterQuarter,
      { due: '2026-01-05T10:15:00Z', missed: 0, tooLate: false, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'the started fire time is not due again',
      utc('*/15 * * * *'),
      topOfQuarter,
      justAfterQuarter,
      { due: undefined, missed: 0, tooLate: false, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'down for 46 minutes: 10:30 and 10:45 missed',
      utc('*/15 * * * *'),
      topOfQuarter,
      justAfterEleven,
      { due: '2026-01-05T11:00:00Z', missed: 2, tooLate: false, next: '2026-01-05T11:15:00Z' },
    ],
    [
      'past the starting deadline',
      utc('*/15 * * * *', { startingDeadline: '30s' }),
      undefined,
      justAfterQuarter,
      { due: '2026-01-05T10:15:00Z', missed: 1, tooLate: true, next: '2026-01-05T10:30:00Z' },
    ],
    [
      'down for a year: counted exactly up to 100, estimated beyond',
      utc('*/15 * * * *', { startingDeadline: '5m' }),
      topOfQuarter,
      aYearLater,
      { due: '2027-01-05T10:15:00Z', missed: 35039, tooLate: false, next: '2027-01-05T10:30:00Z' },
    ],
    [
      'a dense burst long ago: every minute of 09:00, asked at 12:00',
      utc('* 9 * * *'),
      at('2026-01-05T09:59:00Z'),
      at('2026-01-06T12:00:00Z'),
      { due: '2026-01-06T09:59:00Z', missed: 59, tooLate: false, next: '2026-01-07T09:00:00Z' },
    ],
    [
      'a leap-day schedule waits years',
      utc('0 0 29 2 *'),
      undefined,
      at('2026-01-06T12:00:00Z'),
      { due: undefined, missed: 0, tooLate: false, next: '2028-02-29T00:00:00Z' },
    ],
    [
      'weekdays only: Monday 09:00 follows Friday 09:00',
      utc('0 9 * * 1-5'),
      at('2026-01-09T09:00:00Z'),
      at('2026-01-10T12:00:00Z'),
      { due: undefined, missed: 0, tooLate: false, next: '2026-01-12T09:00:00Z' },
    ],
  ])('%s', (_name, trigger, lastScheduledTime, now, expected) => {
    expect(show(plan({ trigger, uid: UID, createdAt: created, lastScheduledTime, now }))).toEqual(
      expected,
    );
  });

  it('delays each fire time by a share of the gap to the next one', () => {
    const trigger = utc('0 * * * *', { jitter: '50%' });
    const offset = Math.floor(jitterFraction(UID) * 0.5 * 3600) * 1000;
    const fire = at('2026-01-05T12:00:00Z');
    const input = { trigger, uid: UID, createdAt: created };
    expect(plan({ ...input, now: plus(fire, offset - 1000) })).toMatchObject({
      due: plus(fire, offset - HOUR),
      next: plus(fire, offset),
    });
    expect(plan({ ...input, lastScheduledTime: plus(fire, offset - HOUR), now: fire })).toEqual({
      missed: 0,
      tooLate: false,
      next: plus(fire, offset),
    });
    expect(plan({ ...input, now: plus(fire, offset) }).due).toEqual(plus(fire, offset));
  });
});

describe('planSchedule across daylight saving time', () => {
  const created = at('2026-01-01T00:00:00Z');
  const trigger = (schedule: string, timeZone: string): Trigger => ({
    schedule,
    timeZone,
    jitter: '0%',
  });

  it.each<[string, Trigger, Date, Date, ReturnType<typeof show>]>([
    [
      'Paris spring-forward: 02:00 does not exist, it runs at the transition (03:00 CEST)',
      trigger('0 2 * * *', 'Europe/Paris'),
      at('2026-03-28T01:00:00Z'),
      at('2026-03-29T01:00:00Z'),
      { due: '2026-03-29T01:00:00Z', missed: 0, tooLate: false, next: '2026-03-30T00:00:00Z' },
    ],
    [
      'Paris fall-back: 02:00 happens twice, it runs once',
      trigger('0 2 * * *', 'Europe/Paris'),
      at('2026-10-25T00:00:00Z'),
      at('2026-10-25T01:30:00Z'),
      { due: undefined, missed: 0, tooLate: false, next: '2026-10-26T01:00:00Z' },
    ],
    [
      'New York fall-back: 01:30 happens twice, it runs once',
      trigger('30 1 * * *', 'America/New_York'),
      at('2026-11-01T05:30:00Z'),
      at('2026-11-01T06:40:00Z'),
      { due: undefined, missed: 0, tooLate: false, next: '2026-11-02T06:30:00Z' },
    ],
    [
      'New York spring-forward: 01:30 EST, then 01:30 EDT the next day',
      trigger('30 1 * * *', 'America/New_York'),
      at('2026-03-07T06:30:00Z'),
      at('2026-03-09T05:30:00Z'),
      { due: '2026-03-09T05:30:00Z', missed: 1, tooLate: false, next: '2026-03-10T05:30:00Z' },
    ],
    [
      'New York spring-forward: 02:00 runs at the transition (03:00 EDT)',
      trigger('0 2 * * *', 'America/New_York'),
      at('2026-03-07T07:00:00Z'),
      at('2026-03-08T07:00:00Z'),
      { due: '2026-03-08T07:00:00Z', missed: 0, tooLate: false, next: '2026-03-09T06:00:00Z' },
    ],
    [
      'New York spring-forward: 02:30 does not exist, it runs an hour later (03:30 EDT)',
      trigger('30 2 * * *', 'America/New_York'),
      at('2026-03-07T07:30:00Z'),
      at('2026-03-08T07:04:00Z'),
      { due: undefined, missed: 0, tooLate: false, next: '2026-03-08T07:30:00Z' },
    ],
    [
      'New York spring-forward: every 5 minutes of 01:00-02:59, 02:xx runs as 03:xx EDT',
      trigger('*/5 1-2 * * *', 'America/New_York'),
      at('2026-03-07T07:55:00Z'),
      at('2026-03-08T12:00:00Z'),
      { due: '2026-03-08T07:55:00Z', missed: 23, tooLate: false, next: '2026-03-09T05:00:00Z' },
    ],
    [
      'New York fall-back: every 15 minutes of real time, through both passes of 01:00',
      trigger('*/15 * * * *', 'America/New_York'),
      at('2026-11-01T05:00:00Z'),
      at('2026-11-01T08:00:00Z'),
      { due: '2026-11-01T08:00:00Z', missed: 11, tooLate: false, next: '2026-11-01T08:15:00Z' },
    ],
    [
      'Paris spring-forward: every 15 minutes, 01:45 CET is followed by 03:00 CEST',
      trigger('*/15 * * * *', 'Europe/Paris'),
      at('2026-03-29T00:45:00Z'),
      at('2026-03-29T01:05:00Z'),
      { due: '2026-03-29T01:00:00Z', missed: 0, tooLate: false, next: '2026-03-29T01:15:00Z' },
    ],
  ])('%s', (_name, trigger, lastScheduledTime, now, expected) => {
    expect(show(plan({ trigger, uid: UID, createdAt: created, lastScheduledTime, now }))).toEqual(
      expected,
    );
  });

  /** Fire times from one continuous forward iteration that starts well before the window. */
  function reference(schedule: string, timeZone: string, from: Date, to: Date): number[] {
    const expression = CronExpressionParser.parse(schedule, { tz: timeZone, currentDate: from });
    const fires: number[] = [];
    for (let fire = expression.next().getTime(); fire <= to.getTime();) {
      fires.push(fire);
      fire = expression.next().getTime();
    }
    return fires;
  }

  it.each([
    ['0 2 * * *', 'Europe/Paris', '2026-10-23T00:00:00Z'],
    ['30 2 * * *', 'Europe/Paris', '2026-10-23T00:00:00Z'],
    ['30 1 * * *', 'America/New_York', '2026-10-30T00:00:00Z'],
    ['0 1 * * *', 'America/New_York', '2026-10-30T00:00:00Z'],
    ['*/15 * * * *', 'America/New_York', '2026-10-31T20:00:00Z'],
    ['0 2 * * *', 'Europe/Paris', '2026-03-27T00:00:00Z'],
    ['30 2 * * *', 'America/New_York', '2026-03-06T00:00:00Z'],
    ['30 2 * * *', 'Europe/Paris', '2026-03-27T00:00:00Z'],
    ['*/15 * * * *', 'Europe/Paris', '2026-03-28T20:00:00Z'],
  ])('%s in %s gives the same answer whenever it is asked', (schedule, timeZone, start) => {
    const from = at(start);
    const fires = reference(schedule, timeZone, from, plus(from, 4 * DAY));
    for (let now = fires[1] ?? 0; now < (fires.at(-2) ?? 0); now += 17 * MINUTE) {
      const upToNow = fires.filter((f) => f <= now);
      const p = plan({
        trigger: trigger(schedule, timeZone),
        uid: UID,
        createdAt: from,
        lastScheduledTime: new Date(upToNow.at(-2) ?? 0),
        now: new Date(now),
      });
      const when = new Date(now).toISOString();
      expect(show(p), when).toEqual({
        due: rfc3339(new Date(upToNow.at(-1) ?? 0)),
        missed: 0,
        tooLate: false,
        next: rfc3339(new Date(fires.find((f) => f > now) ?? 0)),
      });
    }
  });
});

describe('planSchedule with resolved policies', () => {
  const policy = resolvePolicy(undefined, undefined);
  const createdAt = at('2026-01-05T10:00:00Z');

  it.each([
    ['sync', policy.sync],
    ['drift', policy.drift],
  ])('accepts the %s trigger of an EffectivePolicy', (_name, trigger) => {
    const p = plan({ trigger, uid: UID, createdAt, now: createdAt });
    expect(p.due).toEqual(createdAt);
  });

  it('skips the run at creation when lastScheduledTime is the creation time', () => {
    const p = plan({
      trigger: policy.drift,
      uid: UID,
      createdAt,
      lastScheduledTime: createdAt,
      now: createdAt,
    });
    expect(show(p)).toEqual({
      due: undefined,
      missed: 0,
      tooLate: false,
      next: '2026-01-05T16:00:00Z',
    });
  });
});

describe('planSchedule errors', () => {
  const base = { uid: UID, createdAt: at('2026-01-05T10:00:00Z'), now: at('2026-01-05T10:00:00Z') };

  it.each<[string, Trigger, string, string]>([
    ['a minute of 61', { schedule: '61 * * * *', timeZone: 'Etc/UTC' }, 'InvalidSchedule', '61'],
    ['four fields', { schedule: '* * * *', timeZone: 'Etc/UTC' }, 'InvalidSchedule', '5 fields'],
    ['six fields', { schedule: '0 * * * * *', timeZone: 'Etc/UTC' }, 'InvalidSchedule', '5 fields'],
    ['February 30', { schedule: '0 0 30 2 *', timeZone: 'Etc/UTC' }, 'InvalidSchedule', '30 2'],
    [
      'an unknown zone',
      { schedule: '0 * * * *', timeZone: 'Mars/Olympus' },
      'UnknownTimeZone',
      'Mars/Olympus',
    ],
    ['a bad interval', { interval: 'soon', timeZone: 'Etc/UTC' }, 'InvalidInterval', 'soon'],
    ['no trigger at all', { timeZone: 'Etc/UTC' }, 'InvalidInterval', 'interval'],
    [
      'a bad jitter',
      { interval: '1m', timeZone: 'Etc/UTC', jitter: '150%' },
      'InvalidJitter',
      '150%',
    ],
    [
      'a bad starting deadline',
      { interval: '1m', timeZone: 'Etc/UTC', startingDeadline: 'later' },
      'InvalidStartingDeadline',
      'later',
    ],
  ])('reports %s as a typed error', (_name, trigger, code, mentioned) => {
    const result = planSchedule({ ...base, trigger });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(result.error.message).toContain(mentioned);
  });

  it('reports fire times cron-parser cannot compute as a typed error, not a throw', () => {
    const result = planSchedule({
      trigger: { schedule: '0 2 * * *', timeZone: 'Australia/Lord_Howe' },
      uid: UID,
      createdAt: at('2026-01-01T00:00:00Z'),
      lastScheduledTime: at('2026-04-03T15:00:00Z'),
      now: at('2026-04-04T16:00:00Z'),
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'Unschedulable' } });
  });

  it('ignores the time zone of an interval trigger', () => {
    expect(
      planSchedule({ ...base, trigger: { interval: '1m', timeZone: 'Mars/Olympus' } }).ok,
    ).toBe(true);
  });
});

describe('delayUntil', () => {
  const now = at('2026-01-05T10:00:00Z');
  it.each([
    ['a future time', plus(now, 90_000), 90_000],
    ['now', now, 0],
    ['a past time', plus(now, -5000), 0],
  ])('for %s', (_name, time, expected) => {
    expect(delayUntil(time, now)).toBe(expected);
  });
});
