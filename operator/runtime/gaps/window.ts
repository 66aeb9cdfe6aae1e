/**
 * The judge window of gap detection, as pure functions. A pass judges the records whose updated
 * value lies in `(previous judge mark, cut]`, where `cut = passStart − grace`; the new judge mark
 * is the cut. So consecutive passes judge adjoining windows: nothing twice, nothing never. The
 * first pass (no mark) judges nothing and sets the mark. An updated value is a time when it is
 * an RFC 3339 / ISO 8601 date or a number of epoch seconds (≥ 1e9) or milliseconds (≥ 1e11);
 * anything else (a revision counter, no value) cannot be judged.
 */
import { parseDuration } from '../../api/index.ts';

/** Numbers at or above this are epoch milliseconds (1e11 ms is 1973; 1e11 s is year 5138). */
const EPOCH_MS_FROM = 1e11;
/** Numbers at or above this (and below {@link EPOCH_MS_FROM}) are epoch seconds (2001 on). */
const EPOCH_S_FROM = 1e9;
const NUMERIC = /^-?\d+(\.\d+)?$/;

/** The epoch milliseconds of an updated value, or undefined when it is not a time. */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number') return numberToMs(value);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (NUMERIC.test(value)) return numberToMs(Number(value));
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function numberToMs(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  if (n >= EPOCH_MS_FROM) return n;
  if (n >= EPOCH_S_FROM) return n * 1000;
  return undefined;
}

/** The window of one pass: judge `(from, to]`; `judging` false on a first pass. */
export interface JudgeWindow {
  /** Exclusive lower bound, epoch ms: the previous judge mark. */
  from: number | undefined;
  /** Inclusive upper bound, epoch ms: the cut, and the next judge mark. */
  to: number;
  /** False when there was no previous mark: the pass only sets one. */
  judging: boolean;
}

/**
 * The window of a pass starting at `passStartMs` after a pass that left `previousMark`. The cut
 * never goes below the previous mark (a longer grace, a clock stepping back): the window is then
 * empty rather than judging again what was judged.
 */
export function judgeWindow(
  previousMark: string | undefined,
  passStartMs: number,
  graceMs: number,
): JudgeWindow {
  const from = toEpochMs(previousMark);
  const cut = passStartMs - graceMs;
  return { from, to: from === undefined ? cut : Math.max(from, cut), judging: from !== undefined };
}

/**
 * The window a pass judges: the one its checkpoint carries when it resumes after a committed page
 * (same cut, so a resumed attempt judges what the first one would have), else a new one from the
 * previous mark, the pass start and the grace.
 */
export function passWindow(
  start: { mark?: string | undefined; cut?: string | undefined; resumed: boolean },
  nowMs: number,
  grace: string,
): JudgeWindow {
  const cut = start.resumed ? toEpochMs(start.cut) : undefined;
  const from = toEpochMs(start.mark);
  if (cut !== undefined) return { from, to: cut, judging: from !== undefined };
  return judgeWindow(start.mark, nowMs, parseDuration(grace) ?? 0);
}

/** Whether a record with `updated` is judged in `window`. */
export function inWindow(window: JudgeWindow, updated: unknown): boolean {
  if (!window.judging || window.from === undefined) return false;
  const at = toEpochMs(updated);
  return at !== undefined && at > window.from && at <= window.to;
}

/** A judge mark as it travels in the checkpoint: ISO 8601 UTC with milliseconds. */
export function formatMark(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The incremental lower bound of a webhook Integration's pass: the earlier of the high-water mark
 * and the judge mark, so records younger than the grace at the last pass are read (and judged)
 * again. Written in the high-water mark's own format (epoch seconds, milliseconds or a date),
 * since it fills the provider's `{since}`. Without a high-water mark: none (a full pass).
 */
export function incrementalSince(
  highWater: string | undefined,
  mark: string | undefined,
): string | undefined {
  if (highWater === undefined) return undefined;
  const [high, judged] = [toEpochMs(highWater), toEpochMs(mark)];
  if (high === undefined || judged === undefined || judged >= high) return highWater;
  return formatLike(judged, highWater);
}

/** `ms` written like `example`: epoch seconds (rounded down), epoch ms, or an ISO date. */
function formatLike(ms: number, example: string): string {
  if (NUMERIC.test(example)) {
    const n = Number(example);
    return n >= EPOCH_MS_FROM ? String(Math.floor(ms)) : String(Math.floor(ms / 1000));
  }
  const iso = new Date(ms).toISOString();
  return example.includes('.') ? iso : iso.replace(/\.\d{3}Z$/, 'Z');
}
