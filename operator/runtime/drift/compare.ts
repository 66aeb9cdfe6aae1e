/**
 * The comparison of the two systems: a merge join of two streams sorted by id, in one pass and
 * constant memory, and the tally of what it finds (counts, and the first ids of each kind as
 * samples — the smallest ids, since the streams are sorted, so samples are stable run to run).
 */
import { decodeEntry, entryKey, type Entry, type SortedStream } from './spill.ts';

/** How the two systems differ on one id. */
export type Difference =
  | { kind: 'missing'; id: string; source: Entry }
  | { kind: 'unexpected'; id: string; destination: Entry }
  | { kind: 'mismatched'; id: string; source: Entry; destination: Entry };

/** The kinds of {@link Difference}. */
export type DifferenceKind = Difference['kind'];

/** Sample ids kept per kind. */
export const MAX_SAMPLES = 10;

/** Longest sample id reported (the result contract's limit). */
const MAX_SAMPLE_LENGTH = 256;

/**
 * Yields every difference between `source` and `destination` (both in line order, see
 * spill.ts) in id order; only differing entries are decoded. An id repeated within one side
 * counts once, with its first fingerprint in line order.
 */
export function* differences(
  source: SortedStream,
  destination: SortedStream,
): Generator<Difference, void, undefined> {
  const left = distinct(source);
  const right = distinct(destination);
  let a = left();
  let b = right();
  while (a !== undefined || b !== undefined) {
    if (b === undefined || (a !== undefined && a.key < b.key)) {
      const entry = decodeEntry((a as Keyed).line);
      yield { kind: 'missing', id: entry.id, source: entry };
      a = left();
    } else if (a === undefined || b.key < a.key) {
      const entry = decodeEntry(b.line);
      yield { kind: 'unexpected', id: entry.id, destination: entry };
      b = right();
    } else {
      if (!sameFingerprint(a, b)) {
        const entry = decodeEntry(a.line);
        yield { kind: 'mismatched', id: entry.id, source: entry, destination: decodeEntry(b.line) };
      }
      a = left();
      b = right();
    }
  }
}

/** An encoded entry and its key. */
interface Keyed {
  line: string;
  key: string;
}

/** Whether two entries of equal keys carry the same fingerprint. */
function sameFingerprint(a: Keyed, b: Keyed): boolean {
  const start = a.key.length + 1;
  const end = a.line.indexOf('\t', start);
  return (
    end === b.line.indexOf('\t', start) && a.line.slice(start, end) === b.line.slice(start, end)
  );
}

/** A reader of `stream` that skips entries whose key equals the previous one. */
function distinct(stream: SortedStream): () => Keyed | undefined {
  let previous: string | undefined;
  return () => {
    for (let line = stream.next(); line !== undefined; line = stream.next()) {
      const key = entryKey(line);
      if (key !== previous) {
        previous = key;
        return { line, key };
      }
    }
    return undefined;
  };
}

/** Counts and samples of differences, in the shape of the result's `drift`. */
export interface DriftTally {
  missing: number;
  unexpected: number;
  mismatched: number;
  samples: Record<DifferenceKind, string[]>;
}

/** An empty tally. */
export function emptyTally(): DriftTally {
  return {
    missing: 0,
    unexpected: 0,
    mismatched: 0,
    samples: { missing: [], unexpected: [], mismatched: [] },
  };
}

/** Counts `difference` in `tally`, keeping its id when fewer than {@link MAX_SAMPLES} are kept. */
export function countDifference(tally: DriftTally, difference: Difference): void {
  tally[difference.kind]++;
  const samples = tally.samples[difference.kind];
  if (samples.length < MAX_SAMPLES) samples.push(difference.id.slice(0, MAX_SAMPLE_LENGTH));
}

/** Tallies every difference of two sorted streams (the comparison without repairs). */
export function compareSorted(source: SortedStream, destination: SortedStream): DriftTally {
  const tally = emptyTally();
  for (const difference of differences(source, destination)) countDifference(tally, difference);
  return tally;
}
