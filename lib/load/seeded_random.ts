/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives the
 * same sequence, so generated payloads and randomised tests can be replayed.
 * Not for anything secret.
 *
 * @module
 */

/**
 * Returns a generator of numbers in [0, 1) for `seed`.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./seeded_random.ts";
 * const a = seededRandom(42), b = seededRandom(42);
 * a() === b(); // true
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
