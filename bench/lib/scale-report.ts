/**
 * The scale benchmark's figures: one line per figure,
 * `scale <phase> N=<n> <metric> tributary=<v> cronjob=<v> ratio=<r>` (ratio tributary / cronjob;
 * the memory phase's client-go baseline prints `informer-go=<v>` in the place of `cronjob=`),
 * and the same records in the JSON file. A value that could not be measured is `n/a`, and a
 * phase that did not run prints `scale <phase> N=<n> skipped: <reason>`.
 */
import { writeFileSync } from 'node:fs';
import type { Budget } from './scale-cluster.ts';

/** What Tributary is compared with: the CronJob controller, or (memory) a client-go informer. */
export type Baseline = 'cronjob' | 'informer-go';

/** One figure of both sides. */
export interface Figure {
  phase: string;
  n: number;
  metric: string;
  budget: Budget;
  /** The other side; the line names it (`cronjob=`, `informer-go=`). */
  against: Baseline;
  tributary: number | null;
  /** The other side's value. */
  baseline: number | null;
  /** tributary / baseline; null when either is missing or the baseline is 0. */
  ratio: number | null;
  /** How it was measured, where the line alone would mislead. */
  note?: string;
}

/** A phase that did not run, and why. */
export interface Skipped {
  phase: string;
  n: number;
  budget: Budget;
  skipped: string;
}

/** Collects the figures, prints each as it comes and writes the JSON at the end. */
export class ScaleReport {
  readonly figures: Figure[] = [];
  readonly skipped: Skipped[] = [];
  readonly #startedAt = new Date().toISOString();

  /** Records and prints one figure against the CronJob controller. */
  add(
    base: { phase: string; n: number; budget: Budget },
    metric: string,
    values: { tributary: number | undefined; cronjob: number | undefined; note?: string },
  ): void {
    const { tributary, cronjob, note } = values;
    this.addAgainst(base, metric, 'cronjob', { tributary, baseline: cronjob, note });
  }

  /** Records and prints one figure against `against`. */
  addAgainst(
    base: { phase: string; n: number; budget: Budget },
    metric: string,
    against: Baseline,
    values: {
      tributary: number | undefined;
      baseline: number | undefined;
      note?: string | undefined;
    },
  ): void {
    const tributary = finite(values.tributary);
    const baseline = finite(values.baseline);
    const ratio =
      tributary === null || baseline === null || baseline === 0 ? null : tributary / baseline;
    const figure: Figure = { ...base, metric, against, tributary, baseline, ratio };
    if (values.note !== undefined) figure.note = values.note;
    this.figures.push(figure);
    console.log(
      `scale ${base.phase} N=${base.n} ${metric} tributary=${show(tributary)} ` +
        `${against}=${show(baseline)} ratio=${show(ratio)}`,
    );
  }

  /** Records and prints a phase that did not run. */
  skip(base: { phase: string; n: number; budget: Budget }, reason: string): void {
    this.skipped.push({ ...base, skipped: reason });
    console.log(`scale ${base.phase} N=${base.n} skipped: ${reason}`);
  }

  /** Writes the JSON file. */
  write(path: string, meta: Record<string, unknown>): void {
    const body = {
      startedAt: this.#startedAt,
      ...meta,
      figures: this.figures,
      skipped: this.skipped,
    };
    writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
  }
}

function finite(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}

/** A value with 4 significant digits (integers whole); `n/a` when missing. */
function show(value: number | null): string {
  if (value === null) return 'n/a';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}
