/**
 * What a sync reports about quarantine, given the records the operator holds (their ids arrive
 * in the run input): the records it newly quarantined (count, and up to 10 with their reasons)
 * and the held ones it wrote or found unchanged (released). A held record that fails again is
 * neither: it stays held. Held records the pass did not read are retried by id afterwards.
 */
import type { ResultBody } from './result.ts';

/** Newly quarantined records listed with their reason in a result. */
export const MAX_SAMPLES = 10;
/** Released ids listed in a result; more are counted (and released again by a later pass). */
export const MAX_RELEASED = 50;

/** The quarantine part of a result. */
export type QuarantineResult = NonNullable<ResultBody['quarantine']>;

/** The quarantine bookkeeping of one sync attempt. */
export class QuarantineTracker {
  readonly #held: ReadonlySet<string>;
  readonly #seen = new Set<string>();
  readonly #released = new Set<string>();
  readonly #samples: { id: string; reason: string }[] = [];
  #new = 0;

  constructor(heldIds: readonly string[] = []) {
    this.#held = new Set(heldIds);
  }

  /** Record `id` was written or found unchanged. */
  passed(id: string): void {
    if (!this.#held.has(id)) return;
    this.#seen.add(id);
    this.#released.add(id);
  }

  /** Record `id` was quarantined for `reason`. */
  quarantined(id: string, reason: string): void {
    if (this.#held.has(id)) {
      this.#seen.add(id);
      return;
    }
    this.#new++;
    if (this.#samples.length < MAX_SAMPLES)
      this.#samples.push({ id: id.slice(0, 256), reason: reason.slice(0, 512) });
  }

  /** Held ids this attempt has not read yet, in the order the operator listed them. */
  pending(): string[] {
    return [...this.#held].filter((id) => !this.#seen.has(id));
  }

  /**
   * The result's quarantine: `count` is every record the run quarantined (its stats), `full`
   * whether the attempt read the whole source.
   */
  report(count: number, full: boolean): QuarantineResult {
    const released = [...this.#released];
    return {
      count,
      new: this.#new,
      ...(this.#samples.length > 0 ? { samples: [...this.#samples] } : {}),
      ...(released.length > 0
        ? { released: released.slice(0, MAX_RELEASED), releasedCount: released.length }
        : {}),
      full,
    };
  }
}
