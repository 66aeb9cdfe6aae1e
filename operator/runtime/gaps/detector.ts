/**
 * Gap detection of one sync pass of an Integration with `spec.webhook`: of the records the pass
 * wrote (or found unchanged) whose updated value lies in the pass's judge window (window.ts),
 * how many no webhook delivery carried (match.ts). The pass writes them either way (backfill);
 * this only counts. Judged page by page; never fails the pass.
 */
import type { Dispatcher } from 'undici';
import type { RunInput } from '../../api/run-input.ts';
import type { ResultBody } from '../result.ts';
import { IntakeMatcher, type ReadRecord } from './match.ts';
import { formatMark, inWindow, passWindow, type JudgeWindow } from './window.ts';

/** Most missed ids a result carries. */
const MAX_SAMPLES = 10;

/** What gap detection reads of the checkpoint a pass starts from (checkpoint.ts). */
export interface GapStart {
  /** Judge mark of the completed passes (ISO 8601). */
  mark?: string | undefined;
  /** Whether the pass resumes after a committed page; then `cut` and `counts` are its own. */
  resumed: boolean;
  /** The cut of the pass in progress, so a resumed attempt judges the same window. */
  cut?: string | undefined;
  /** Changed and missed on the pages before the resume point. */
  counts?: [number, number] | undefined;
}

/** Options of {@link GapDetector}. */
export interface GapDetectorOptions {
  webhook: NonNullable<RunInput['webhook']>;
  uid: string;
  dispatcher: Dispatcher;
  /** When the pass started, epoch ms (a resumed attempt keeps the cut it was given instead). */
  nowMs: number;
  /** What the checkpoint the pass started from says. */
  start: GapStart;
  /** Deadline of one `/match` request, ms. Default 5 s. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Judges the records of one pass, page by page. */
export class GapDetector {
  readonly window: JudgeWindow;
  readonly #matcher: IntakeMatcher;
  readonly #judged = new Set<string>();
  readonly #samples: string[] = [];
  #page: ReadRecord[] = [];
  #changed: number;
  #missed: number;

  /** Computes the window; no I/O. */
  constructor(options: GapDetectorOptions) {
    const { start, webhook } = options;
    this.window = passWindow(start, options.nowMs, webhook.grace);
    [this.#changed, this.#missed] = start.resumed ? (start.counts ?? [0, 0]) : [0, 0];
    this.#matcher = new IntakeMatcher({
      intake: webhook.intake,
      uid: options.uid,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  }

  /** A record the pass wrote or found unchanged: kept for judging when `updated` is in the window. */
  note(id: string, updated: unknown, version: string): void {
    if (!inWindow(this.window, updated) || this.#judged.has(id)) return;
    this.#judged.add(id);
    this.#page.push({ id, version });
  }

  /** Asks the intakes about the records noted since the last call and counts the unmatched. */
  async judgePage(): Promise<void> {
    const page = this.#page;
    this.#page = [];
    if (page.length === 0) return;
    const matched = await this.#matcher.match(page);
    this.#changed += page.length;
    for (const { id } of page) {
      if (matched.has(id)) continue;
      this.#missed++;
      if (this.#samples.length < MAX_SAMPLES) this.#samples.push(id);
    }
  }

  /** The cut of this pass (ISO 8601): the checkpoint's `cut` during it, its `mark` after it. */
  cut(): string {
    return formatMark(this.window.to);
  }

  /** Changed and missed so far (the checkpoint's carry `w`). */
  counts(): [number, number] {
    return [this.#changed, this.#missed];
  }

  /** The result's `webhook` field; nothing on a pass that only set the first mark. */
  report(): Pick<ResultBody, 'webhook'> {
    if (!this.window.judging) return {};
    const unavailable = this.#matcher.unavailable();
    return {
      webhook: {
        changed: this.#changed,
        missed: this.#missed,
        ...(this.#samples.length > 0 ? { missedSamples: [...this.#samples] } : {}),
        ...(unavailable === undefined ? {} : { unavailable }),
      },
    };
  }
}
