import type { GapReason } from "../protocol/frames.ts";

/** Seqs `fromSeq..toSeq` (inclusive) of `topic` that a client will not receive. */
export interface GapRange {
  topic: string;
  fromSeq: number;
  toSeq: number;
  reason: GapReason;
}

const SEVERITY: Record<GapReason, number> = {
  coalesced: 0,
  dropped: 1,
  history_exceeded: 2,
  epoch_changed: 3,
  bus_outage: 4,
};

/** Of two reasons for one merged gap, the one that tells the client more. */
export function worseReason(a: GapReason, b: GapReason): GapReason {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/**
 * Appends `newer` ranges after `older` ones (both sorted by seq, all of one
 * topic), merging the two that touch into one range.
 *
 * @example
 * ```ts
 * import { appendRanges } from "./gap_range.ts";
 * const merged = appendRanges(
 *   [{ topic: "t", fromSeq: 1, toSeq: 2, reason: "coalesced" }],
 *   [{ topic: "t", fromSeq: 3, toSeq: 3, reason: "dropped" }],
 * );
 * // [{ topic: "t", fromSeq: 1, toSeq: 3, reason: "dropped" }]
 * ```
 */
export function appendRanges(
  older: GapRange[] | undefined,
  newer: GapRange[] | undefined,
): GapRange[] | undefined {
  if (!older || older.length === 0) return newer;
  if (!newer || newer.length === 0) return older;
  const last = older[older.length - 1];
  const first = newer[0];
  if (last.toSeq + 1 === first.fromSeq) {
    const joined: GapRange = {
      topic: last.topic,
      fromSeq: last.fromSeq,
      toSeq: first.toSeq,
      reason: worseReason(last.reason, first.reason),
    };
    return [...older.slice(0, -1), joined, ...newer.slice(1)];
  }
  return [...older, ...newer];
}
