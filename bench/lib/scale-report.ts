/**
 * The scale benchmark's figures: one line per figure,
 * `scale <phase> N=<n> <metric> tributary=<v> cronjob=<v> ratio=<r>` (ratio tributary / cronjob),
 * and the same records in the JSON file. A value that could not be measured is `n/a`, and a
 * phase that did not run prints `scale <phase> N=<n> skipped: <reason>`.
 */
import { writeFileSync } from 'node:fs';
import type { Budget } from './scale-cluster.ts';

/** One figure of both sides. */
export interface Figure {
  phase: string;
  n: number;
  metric: string;
  tributary: number | null;
  cronjob: number | null;
  /** tributary / cronjob; null when either is missing or cronjob is 0. */
  ratio: number | null;
  budget: Budget;
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

  /** Records and prints one figure. */
  add(
    base: { phase: string; n: number; budget: Budget },
    metric: string,
    values: { tributary: number | undefined; cronjob: number | undefined; note?: string },
  ): void {
    const tributary = finite(values.tributary);
    const cronjob = finite(values.cronjob);
    const ratio =
      tributary === null || cronjob === null || cronjob === 0 ? null : tributary / cronjob;
    const figure: Figure = { ...base, metric, tributary, cronjob, ratio };
    if (values.note !== undefined) figure.note = values.note;
    this.figures.push(figure);
    console.log(
      `scale ${base.phase} N=${base.n} ${metric} tributary=${show(tributary)} ` +
        `cronjob=${show(cronjob)} ratio=${show(ratio)}`,
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
