/**
 * Makes a history read safe to replay when seqs are missing from it. A bus
 * never leaves a hole on purpose (a publish gets its seq only once nothing can
 * refuse it any more), but a history written by an older version, a Redis
 * stream edited by hand, or a failure halfway through a script could hold one.
 * A reader that replays a page expects it to run without holes from `firstSeq`
 * on; given one with a hole it would deliver seq 3 after 1 without a gap, or
 * ask for the missing seq forever.
 *
 * @module
 */
import type { HistoryPage } from "./bus.ts";

/**
 * The page to hand out for a read of the seqs after `afterSeq`: `envelopes`
 * (sorted, all > `afterSeq`) cut at their first hole, and `firstSeq` moved past
 * any hole right after `afterSeq`, so that readers see the missing seqs the way
 * they see trimmed ones: as seqs below `firstSeq`, which they report as a gap.
 *
 * - the first envelope is not `afterSeq + 1` (and `afterSeq + 1` is not below
 *   the retention start): `firstSeq` becomes that envelope's seq;
 * - no envelope although `lastSeq > afterSeq` and something is retained:
 *   `firstSeq` becomes `lastSeq + 1` (everything up to `lastSeq` is missing);
 * - a hole further on: the page ends before it; the next read, after the last
 *   envelope kept, starts at the hole and is handled as above.
 *
 * @example
 * ```ts
 * import { contiguousPage } from "./history_page.ts";
 * const env = (seq: number) => ({ topic: "t", seq, ts: 0, data: seq });
 * contiguousPage(1, { envelopes: [env(3), env(4)], firstSeq: 1, lastSeq: 4 }).firstSeq; // 3
 * contiguousPage(0, { envelopes: [env(1), env(3)], firstSeq: 1, lastSeq: 3 }).envelopes.length; // 1
 * ```
 */
export function contiguousPage(afterSeq: number, page: HistoryPage): HistoryPage {
  const { envelopes, lastSeq } = page;
  let firstSeq = page.firstSeq;
  if (envelopes.length === 0) {
    if (firstSeq !== 0 && lastSeq > afterSeq && firstSeq <= lastSeq) firstSeq = lastSeq + 1;
    return { envelopes, firstSeq, lastSeq };
  }
  const start = envelopes[0].seq;
  if (start > Math.max(afterSeq + 1, firstSeq)) firstSeq = start;
  let end = 1;
  while (end < envelopes.length && envelopes[end].seq === envelopes[end - 1].seq + 1) end++;
  return {
    envelopes: end === envelopes.length ? envelopes : envelopes.slice(0, end),
    firstSeq,
    lastSeq,
  };
}
