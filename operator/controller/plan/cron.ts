/**
 * Cron due times for planSchedule (schedule.ts): fire times of a 5-field schedule in an IANA time zone,
 * found by bounded search, and the jitter of each.
 *
 * Cron triggers: run k is due at fire time `f_k + offset_k`, where `offset_k` is in
 * `[0, jitter·(f_{k+1} − f_k))`: the same share of the gap to the next fire time, so a run never
 * slides past the next fire time, and an irregular schedule (weekdays only, DST days of 23 or
 * 25 hours) is spread in proportion to its actual gaps. There is no run at creation: a cron
 * schedule names the times the user wants, e.g. a heavy nightly sync (use the sync-requested-at
 * annotation to run at once). Across DST, cron-parser's forward iteration gives the classic cron
 * semantics — a fixed time in the skipped hour fires an hour later (`0 2` at 03:00, `30 2` at
 * 03:30), a fixed time in the repeated hour fires once, `*` hours fire in both passes — and
 * {@link cronSeries} only ever iterates forward from instants away from a transition, so every
 * question about the same schedule gets the same answer.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { CRON_PATTERN, isKnownTimeZone } from '../../api/index.ts';
import { floorSecond } from '../../lib/time.ts';
import type { ScheduleError } from './schedule.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** How far back a time-zone transition is looked for; no zone shifts by more than 3 hours. */
const TRANSITION_LOOKBACK = 3 * HOUR;
/** Fire times walked one by one in a window before it is bisected instead. */
const WALK_LIMIT = 8;
/** Missed cron fire times counted one by one; more than this are estimated from their spacing. */
export const MAX_COUNTED_MISSED = 100;

/** The unstarted due times up to now, as epoch milliseconds. */
export interface DueTimes {
  due: number | undefined;
  count: number;
  next: number;
}

/** The fire times of a cron schedule in a time zone, and the due time of each. */
export interface CronSeries {
  /** Fire times strictly after `t`, in order, as epoch milliseconds. */
  firesAfter(t: number): Generator<number, never>;
  /** The first fire time strictly after `t`. */
  fireAfter(t: number): number;
  /** The due time of fire time `fire`: the fire time plus this Integration's jitter. */
  dueOf(fire: number): number;
}

/**
 * Parses a 5-field cron schedule in an IANA time zone; `share` is the jitter share of each gap.
 * Returns a typed error, not a throw, for a bad expression or an unknown zone.
 */
export function cronSeries(
  schedule: string,
  timeZone: string,
  share: number,
): CronSeries | ScheduleError {
  if (!isKnownTimeZone(timeZone)) {
    return {
      code: 'UnknownTimeZone',
      message: `timeZone "${timeZone}" is not a known IANA time zone; use a name such as Etc/UTC or Europe/Paris`,
    };
  }
  let expression: CronExpression;
  try {
    if (!new RegExp(CRON_PATTERN).test(schedule))
      throw new Error('expected 5 fields: minute hour day-of-month month day-of-week');
    expression = CronExpressionParser.parse(schedule, { tz: timeZone, currentDate: new Date(0) });
    expression.next();
  } catch (error) {
    return {
      code: 'InvalidSchedule',
      message: `schedule "${schedule}" is not a valid cron expression: ${(error as Error).message}`,
    };
  }
  const offsetAt = utcOffset(timeZone);
  // One expression serves every iteration: an iteration that finds it moved by another one
  // restarts from its own cursor, so interleaved iterations cannot disturb each other.
  let owner: object | undefined;
  function* firesAfter(t: number): Generator<number, never> {
    const self = {};
    let cursor = t;
    for (;;) {
      if (owner !== self) {
        expression.reset(new Date(awayFromTransition(offsetAt, cursor)));
        owner = self;
      }
      const fire = expression.next().getTime();
      if (fire > cursor) {
        cursor = fire;
        yield fire;
      }
    }
  }
  const fireAfter = (t: number) => firesAfter(t).next().value;
  const dueOf = (fire: number) =>
    share === 0 ? fire : fire + floorSecond(share * (fireAfter(fire) - fire));
  return { firesAfter, fireAfter, dueOf };
}

/** The UTC offset of a time zone at an instant, in milliseconds. */
function utcOffset(timeZone: string): (t: number) => number {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  return (t) => {
    const name = format.formatToParts(t).find((part) => part.type === 'timeZoneName')?.value ?? '';
    const match = /([+-])(\d{2}):(\d{2})/.exec(name);
    if (match === null) return 0;
    const minutes = Number(match[2]) * 60 + Number(match[3]);
    return (match[1] === '-' ? -1 : 1) * minutes * 60_000;
  };
}

/**
 * `t`, or, when `t` lies within a daylight-saving shift after a transition (the repeated hour of a
 * fall-back, the hour after a spring-forward), the instant just before the transition:
 * cron-parser only gives the answers of one continuous iteration when it starts outside them.
 */
function awayFromTransition(offsetAt: (t: number) => number, t: number): number {
  const before = offsetAt(t - TRANSITION_LOOKBACK);
  const after = offsetAt(t);
  if (before === after) return t;
  let lo = t - TRANSITION_LOOKBACK; // offset `before`
  let hi = t; // offset `after`: the transition is the first instant with it, in (lo, hi]
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid) === before) lo = mid;
    else hi = mid;
  }
  return t < hi + Math.abs(before - after) ? hi - 1 : t;
}

/** Cron due times, or a typed error when the schedule cannot be parsed or computed. */
export function planCronTrigger(
  schedule: string,
  timeZone: string,
  share: number,
  lower: number,
  now: number,
): DueTimes | ScheduleError {
  const series = cronSeries(schedule, timeZone, share);
  if ('code' in series) return series;
  try {
    return planCron(series, lower, now);
  } catch (error) {
    // cron-parser gives up on a few rules (e.g. Lord Howe's 30-minute DST): never throw.
    const detail = (error as Error).message;
    const message = `schedule "${schedule}" in ${timeZone}: fire times cannot be computed (${detail}); choose another schedule or time zone`;
    return { code: 'Unschedulable', message };
  }
}

/** Cron due times after `lower` up to `now`: most recent, count, and the next one. */
function planCron(series: CronSeries, lower: number, now: number): DueTimes {
  const latest = lastFireAtOrBefore(series, lower, now);
  if (latest === undefined) {
    return { due: undefined, count: 0, next: series.dueOf(series.fireAfter(Math.max(lower, now))) };
  }
  const latestDue = series.dueOf(latest);
  if (latestDue <= now) {
    const next = series.dueOf(series.fireAfter(latest));
    return { due: latestDue, count: countFires(series, lower, latest), next };
  }
  // The latest fire time is not due yet (its jitter is ahead): the one before it is.
  const previous = lastFireAtOrBefore(series, lower, latest - 1);
  if (previous === undefined) return { due: undefined, count: 0, next: latestDue };
  return {
    due: series.dueOf(previous),
    count: countFires(series, lower, previous),
    next: latestDue,
  };
}

/**
 * The last fire time in (lower, t]: a window back from `t` grows fourfold until it holds a fire
 * time; its few fire times are walked, and a dense window is halved down to a minute, where a
 * 5-field schedule has at most one. O(log(t − fire)) lookups.
 */
function lastFireAtOrBefore(series: CronSeries, lower: number, t: number): number | undefined {
  let hi = t; // fireAfter(hi) > t
  let lo: number | undefined; // the start of a window with fireAfter(lo) ≤ t
  for (let width = MINUTE; lo === undefined; width *= 4) {
    if (hi <= lower) return undefined;
    const start = Math.max(lower, t - width);
    if (series.fireAfter(start) <= t) lo = start;
    else hi = start;
  }
  const fires = series.firesAfter(lo);
  let last = fires.next().value; // fireAfter(lo) = last ≤ t
  for (let walked = 0; walked < WALK_LIMIT; walked++) {
    const fire = fires.next().value;
    if (fire > t) return last;
    [lo, last] = [last, fire];
  }
  while (hi - lo > MINUTE) {
    const mid = Math.floor((lo + hi) / 2);
    if (series.fireAfter(mid) <= t) lo = mid;
    else hi = mid;
  }
  return series.fireAfter(lo);
}

/**
 * The number of fire times in (lower, last]: exact up to {@link MAX_COUNTED_MISSED}, beyond that
 * estimated from the average spacing of the ones counted (CronJob gives up at 100 instead).
 */
function countFires(series: CronSeries, lower: number, last: number): number {
  const fires = series.firesAfter(lower);
  const first = fires.next().value;
  let count = 1;
  let current = first;
  while (count < MAX_COUNTED_MISSED) {
    if (current >= last) return count;
    current = fires.next().value;
    count += 1;
  }
  if (current >= last) return count;
  const spacing = (current - first) / (count - 1);
  return count + Math.round((last - current) / spacing);
}
