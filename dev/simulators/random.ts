/**
 * Deterministic randomness for the simulators: a stateless hash of (seed, index, salt) so any
 * record can be generated on its own, and a small seeded generator for fault probabilities.
 */

/** A 32-bit unsigned hash of `seed`, `index` and a salt string; the same inputs give the same value. */
export function hash32(seed: number, index: number, salt = ''): number {
  let h = mix(seed ^ 0x9e3779b9);
  h = mix(h ^ index);
  for (let i = 0; i < salt.length; i++) h = mix(h ^ salt.charCodeAt(i));
  return h >>> 0;
}

/** Picks an element of `items` by `hash32(seed, index, salt)`. */
export function pick<T>(items: readonly T[], seed: number, index: number, salt: string): T {
  const item = items[hash32(seed, index, salt) % items.length];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A seeded generator of floats in [0, 1) (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(value: number): number {
  // murmur3's 32-bit finalizer: cheap and well distributed.
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
