/**
 * The order of record versions, for the stale-event guard of the runtime's webhook workers and
 * the intake's `/match` (gap detection). A version is the record's `updatedField` value (a
 * timestamp or a number) or, without one, `sha256:` and a content hash (runtime/destination.ts
 * recordVersion). Hashes have no order: a different hash counts as newer (the guard then only
 * drops exact repeats), which docs/webhooks.md states.
 */

/** Position of a version on its axis: a number, a date, or undefined when it has none. */
function position(version: string): number | undefined {
  if (version.startsWith('sha256:')) return undefined;
  if (/^-?\d+(\.\d+)?$/.test(version)) return Number(version);
  const time = Date.parse(version);
  return Number.isFinite(time) ? time : undefined;
}

/** True when `candidate` should be written over `applied`: later, or of unknown order and different. */
export function isNewerVersion(candidate: string, applied: string): boolean {
  if (candidate === applied) return false;
  const [a, b] = [position(applied), position(candidate)];
  if (a === undefined || b === undefined) return true;
  return b > a;
}
