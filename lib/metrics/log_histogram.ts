/**
 * A small log-linear histogram for the server's latency figures (fan-out
 * time, queue delay, in µs): values below 128 are exact, larger ones fall in
 * buckets of 1/128 of their power of two, so a reported percentile is within
 * 0.8 % of the true value (HDR-like, two significant digits). Written here
 * rather than loading `hdr-histogram-js`, which costs a fresh server ~10 MB of
 * resident memory at import (measured: 44 → 55 MB); the load tester, a
 * separate process, keeps using it.
 *
 * @module
 */

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
/** Values are clamped to 2^32 − 1 (µs: about 71 minutes). */
const MAX_VALUE = 2 ** 32 - 1;
const BUCKETS = (32 - SUB_BITS + 1) * SUB;

function indexOf(value: number): number {
  const v = Math.min(MAX_VALUE, Math.max(0, Math.floor(value)));
  if (v < SUB) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return (shift + 1) * SUB + (Math.floor(v / 2 ** shift) - SUB);
}

/** The highest value bucket `index` holds. */
function highestOf(index: number): number {
  if (index < SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  return ((index % SUB) + SUB + 1) * 2 ** shift - 1;
}

/**
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogHistogram } from "./log_histogram.ts";
 * const h = new LogHistogram();
 * for (let v = 1; v <= 1000; v++) h.recordValue(v);
 * assert.equal(h.totalCount, 1000);
 * assert.ok(Math.abs(h.getValueAtPercentile(50) - 500) <= 4);
 * assert.equal(h.maxValue, 1000);
 * ```
 */
export class LogHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;
  #max = 0;

  /** Values recorded. */
  get totalCount(): number {
    return this.#total;
  }

  /** The largest value recorded (exact), 0 when none. */
  get maxValue(): number {
    return this.#max;
  }

  /** Records one value (negative counts as 0; above 2^32 − 1 as that). */
  recordValue(value: number): void {
    this.#counts[indexOf(value)]++;
    this.#total++;
    if (value > this.#max) this.#max = Math.min(MAX_VALUE, Math.floor(value));
  }

  /** Adds every value of `other`. */
  add(other: LogHistogram): void {
    const from = other.#counts;
    for (let i = 0; i < BUCKETS; i++) if (from[i] !== 0) this.#counts[i] += from[i];
    this.#total += other.#total;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Forgets every value. */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#max = 0;
  }

  /**
   * The value at or below which `percentile` % of the values lie (the
   * highest value of its bucket, at most {@linkcode LogHistogram.maxValue});
   * 0 when empty.
   */
  getValueAtPercentile(percentile: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(
      1,
      Math.ceil((Math.min(100, Math.max(0, percentile)) / 100) * this.#total),
    );
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(highestOf(i), this.#max);
    }
    return this.#max;
  }
}
