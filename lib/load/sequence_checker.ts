/**
 * Checks what one client received of one topic against the no-silent-loss
 * contract: every seq after the subscription point arrives once, in order, or
 * is covered by a `gap`.
 *
 * @module
 */

/** Counters of one client's view of one topic. */
export interface SequenceCounts {
  /** Messages received in order. */
  delivered: number;
  /** Seqs the server reported as skipped with `gap`. */
  gapped: number;
  /** Seqs skipped with no gap covering them (silent loss). */
  missing: number;
  /** Messages received twice (or covered by a gap and delivered too). */
  duplicates: number;
  /** Messages that arrived after a later seq. */
  outOfOrder: number;
  /**
   * Seqs after the last one received or gapped, up to the last published, at
   * {@linkcode SequenceChecker.finish}: still queued or in flight, or cut off by
   * a close. Not proof of loss, unlike `missing`.
   */
  undelivered: number;
}

/** All counters at zero. */
export function emptyCounts(): SequenceCounts {
  return { delivered: 0, gapped: 0, missing: 0, duplicates: 0, outOfOrder: 0, undelivered: 0 };
}

const MAX_TRACKED_MISSING = 100_000;

/**
 * Tracks one topic for one client.
 *
 * @example
 * ```ts
 * import { SequenceChecker } from "./sequence_checker.ts";
 * const c = new SequenceChecker(0);
 * c.message(1);
 * c.gap(2, 3);
 * c.message(5); // seq 4 is missing: no gap covered it
 * c.finish(7); // seqs 6 and 7 never came
 * c.counts(); // { delivered: 2, gapped: 2, missing: 1, duplicates: 0, outOfOrder: 0, undelivered: 2 }
 * ```
 */
export class SequenceChecker {
  #next: number;
  #missingSet = new Set<number>();
  #counts: SequenceCounts = emptyCounts();

  /** @param afterSeq the last seq before the subscription (from `subscribed` or `snapshot`). */
  constructor(afterSeq: number) {
    this.#next = afterSeq + 1;
  }

  /** The next seq expected. */
  get next(): number {
    return this.#next;
  }

  /** Records a delivered message. */
  message(seq: number): void {
    if (seq === this.#next) {
      this.#counts.delivered++;
      this.#next++;
    } else if (seq > this.#next) {
      this.#markMissing(this.#next, seq - 1);
      this.#counts.delivered++;
      this.#next = seq + 1;
    } else if (this.#missingSet.delete(seq)) {
      this.#counts.missing--;
      this.#counts.outOfOrder++;
      this.#counts.delivered++;
    } else {
      this.#counts.duplicates++;
    }
  }

  /** Records a `gap` covering `fromSeq..toSeq`. */
  gap(fromSeq: number, toSeq: number): void {
    if (toSeq < fromSeq) return;
    if (fromSeq > this.#next) this.#markMissing(this.#next, fromSeq - 1);
    const start = Math.max(fromSeq, this.#next);
    if (start > fromSeq) this.#counts.duplicates += Math.min(toSeq, this.#next - 1) - fromSeq + 1;
    if (toSeq >= start) {
      this.#counts.gapped += toSeq - start + 1;
      this.#next = toSeq + 1;
    }
  }

  /**
   * Restarts counting after `afterSeq` (a new snapshot after a resume); seqs up
   * to it are considered settled.
   */
  resync(afterSeq: number): void {
    if (afterSeq + 1 > this.#next) this.#markMissing(this.#next, afterSeq);
    this.#next = Math.max(this.#next, afterSeq + 1);
  }

  /**
   * Once the run is over: counts seqs published up to `lastSeq` after the last
   * one received or gapped as `undelivered`. (Holes before it are `missing`
   * already.)
   */
  finish(lastSeq: number): void {
    if (lastSeq >= this.#next) {
      this.#counts.undelivered += lastSeq - this.#next + 1;
      this.#next = lastSeq + 1;
    }
  }

  counts(): SequenceCounts {
    return { ...this.#counts };
  }

  #markMissing(from: number, to: number): void {
    this.#counts.missing += to - from + 1;
    for (let s = from; s <= to && this.#missingSet.size < MAX_TRACKED_MISSING; s++) {
      this.#missingSet.add(s);
    }
  }
}
