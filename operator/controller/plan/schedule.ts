/**
 * When runs are due: pure schedule math with an injected `now`, in the spirit of the Kubernetes
 * CronJob controller's mostRecentScheduleTime, for interval and cron triggers alike.
 *
 * Every due time is a whole second, so it survives a round trip through status (RFC 3339 without
 * fractions) and maps one to one onto a Job name (job-name.ts).
 *
 * Interval triggers: the first run is due at the Integration's creation (a new Integration syncs
 * at once, no jitter); run k ≥ 1 is due at `anchor + k·interval + offset`, where the anchor is the
 * creation time and the offset is this Integration's jitter in `[0, jitter·interval)`.
 *
 * Cron triggers (cron.ts): run k is due at fire time `f_k + offset_k`, a share of the gap to
 * the next fire time; no run at creation.
 */
import { createHash } from 'node:crypto';
import { parseDuration, parsePercent } from '../../api/index.ts';
import { floorSecond } from '../../lib/time.ts';
import { planCronTrigger, type DueTimes } from './cron.ts';

const SECOND = 1000;

/**
 * What triggers runs: `EffectivePolicy['sync']` and `EffectivePolicy['drift']` both fit. Exactly
 * one of `interval` and `schedule` is expected; `schedule` wins when both are set.
 */
export interface Trigger {
  /** Go-style duration between runs, e.g. `15m`; rounded to whole seconds. */
  interval?: string | undefined;
  /** 5-field cron expression, read in `timeZone`. */
  schedule?: string | undefined;
  /** IANA time zone of `schedule`; ignored for intervals. */
  timeZone: string;
  /** Share of the gap by which runs of this Integration are delayed, e.g. `10%`. Default: 0%. */
  jitter?: string | undefined;
  /** A due run not started this long after its due time is too late. Default: never too late. */
  startingDeadline?: string | undefined;
}

/** Why a trigger cannot be planned; the reconciler reports it as Stalled/InvalidSpec. */
export interface ScheduleError {
  /** Stable code of the problem. */
  code:
    | 'InvalidSchedule'
    | 'UnknownTimeZone'
    | 'InvalidInterval'
    | 'InvalidJitter'
    | 'InvalidStartingDeadline'
    | 'Unschedulable';
  /** What is wrong, naming the value, and what to do. */
  message: string;
}

/** When runs are due, as seen at `now`. */
export interface SchedulePlan {
  /** The most recent due time ≤ now after `lastScheduledTime` (or creation): the run to start. */
  due?: Date;
  /** Due times skipped: older unstarted ones superseded by `due`, plus `due` itself if too late. */
  missed: number;
  /** True when `due` exists but `now` is past `due + startingDeadline`: skip it, do not start it. */
  tooLate: boolean;
  /** The first due time after `now` (and after `lastScheduledTime`): when to wake up next. */
  next: Date;
}

/** A plan, or the reason there cannot be one. */
export type ScheduleResult = { ok: true; plan: SchedulePlan } | { ok: false; error: ScheduleError };

/** Input of {@link planSchedule}. */
export interface ScheduleInput {
  /** The trigger in force: `policy.sync` or `policy.drift`. */
  trigger: Trigger;
  /** metadata.uid of the Integration; seeds its jitter. */
  uid: string;
  /** metadata.creationTimestamp of the Integration: the anchor of intervals. */
  createdAt: Date;
  /** Due time of the last run that was started (or skipped as too late); none before the first. */
  lastScheduledTime?: Date | undefined;
  /** The current time. */
  now: Date;
}

/**
 * Plans a trigger at `now`: the run to start (if any), how many were missed, and when the next
 * one is due. Bounded work however long the operator was down: intervals are computed
 * arithmetically, cron schedules by binary search and a capped count.
 */
export function planSchedule(input: ScheduleInput): ScheduleResult {
  const { trigger, uid, now } = input;
  const knobs = parseKnobs(trigger);
  if ('code' in knobs) return { ok: false, error: knobs };
  const share = knobs.jitter * jitterFraction(uid);
  const anchor = floorSecond(input.createdAt.getTime());
  const last = input.lastScheduledTime?.getTime();
  let times: DueTimes | ScheduleError;
  if (trigger.schedule !== undefined) {
    const lower = Math.max(anchor, last ?? anchor);
    times = planCronTrigger(trigger.schedule, trigger.timeZone, share, lower, now.getTime());
  } else {
    times = planInterval(trigger.interval, anchor, share, last, now.getTime());
  }
  if ('code' in times) return { ok: false, error: times };
  const { due, count, next } = times;
  const tooLate =
    due !== undefined && knobs.deadline !== undefined && now.getTime() > due + knobs.deadline;
  const plan: SchedulePlan = {
    missed: Math.max(0, count - 1) + (tooLate ? 1 : 0),
    tooLate,
    next: new Date(next),
  };
  if (due !== undefined) plan.due = new Date(due);
  return { ok: true, plan };
}

/** The jitter share and starting deadline (ms) of a trigger. */
function parseKnobs(trigger: Trigger): { jitter: number; deadline?: number } | ScheduleError {
  const jitter = parsePercent(trigger.jitter ?? '0%');
  if (jitter === undefined) {
    const message = `jitter "${trigger.jitter ?? ''}" is not a percentage such as 10%`;
    return { code: 'InvalidJitter', message };
  }
  if (trigger.startingDeadline === undefined) return { jitter };
  const deadline = parseDuration(trigger.startingDeadline);
  if (deadline === undefined) {
    const message = `startingDeadline "${trigger.startingDeadline}" is not a duration such as 5m`;
    return { code: 'InvalidStartingDeadline', message };
  }
  return { jitter, deadline };
}

/** Milliseconds from `now` until `time`, never negative: the requeue-after of a timer. */
export function delayUntil(time: Date, now: Date): number {
  return Math.max(0, time.getTime() - now.getTime());
}

/** A stable fraction in [0, 1) derived from an Integration UID: where its runs fall in the jitter. */
export function jitterFraction(uid: string): number {
  const digest = createHash('sha256').update(uid).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** Interval due times: index 0 at the anchor, index k ≥ 1 at anchor + k·interval + offset. */
function planInterval(
  text: string | undefined,
  anchor: number,
  share: number,
  last: number | undefined,
  now: number,
): DueTimes | ScheduleError {
  if (text === undefined) {
    return { code: 'InvalidInterval', message: 'neither interval nor schedule is set; set one' };
  }
  const parsed = parseDuration(text);
  const interval = parsed === undefined ? 0 : Math.round(parsed / SECOND) * SECOND;
  if (interval <= 0) {
    const message = `interval "${text}" is not a duration of at least 1s, such as 15m`;
    return { code: 'InvalidInterval', message };
  }
  const offset = floorSecond(share * interval);
  const dueAt = (k: number) => (k === 0 ? anchor : anchor + k * interval + offset);
  const indexAtOrBefore = (t: number) =>
    t < anchor ? -1 : Math.max(0, Math.floor((t - anchor - offset) / interval));
  const first = last === undefined ? 0 : indexAtOrBefore(last) + 1;
  const latest = indexAtOrBefore(now);
  const count = Math.max(0, latest - first + 1);
  return {
    due: count > 0 ? dueAt(latest) : undefined,
    count,
    next: dueAt(Math.max(first, latest + 1)),
  };
}
