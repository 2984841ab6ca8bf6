import type { GapRange } from "../queue/gap_range.ts";
import type { Delivery } from "./delivery.ts";

/** Something a subscription receives: a message, or a gap the bus reported. */
export type Incoming = Delivery | GapRange;

function isGap(item: Incoming): item is GapRange {
  return "fromSeq" in item;
}

/**
 * One client's subscription to one topic. It starts *syncing* (snapshot,
 * replay or gap being prepared) and holds the live messages that arrive
 * meanwhile, up to `maxHeld` (the oldest are let go; history covers them).
 * {@linkcode Subscription.release} ends syncing at a cursor.
 */
export class Subscription {
  readonly topic: string;
  readonly #maxHeld: number;
  #held: Incoming[] | undefined = [];
  #letGo = false;

  constructor(topic: string, maxHeld: number) {
    this.topic = topic;
    this.#maxHeld = Math.max(1, maxHeld);
  }

  /** True once syncing ended and messages go straight to the queue. */
  get live(): boolean {
    return this.#held === undefined;
  }

  /** Holds a live message or gap while syncing. */
  hold(item: Incoming): void {
    const held = this.#held;
    if (!held) {
      throw new TypeError(`Subscription to "${this.topic}" is live; queue the message instead`);
    }
    held.push(item);
    if (held.length > this.#maxHeld) {
      held.shift();
      this.#letGo = true;
    }
  }

  /**
   * Ends syncing when the held items continue `cursor` (the last seq the
   * client has, or is covered by a gap) without a hole: returns the items after
   * `cursor`, in order, and turns live. Returns undefined, staying in sync mode,
   * when items were let go and the held ones start after `cursor + 1`: the
   * caller must first read history up to them.
   */
  release(cursor: number): Incoming[] | undefined {
    const held = this.#held;
    if (!held) throw new TypeError(`Subscription to "${this.topic}" is already live`);
    const after: Incoming[] = [];
    for (const item of held) {
      if (isGap(item)) {
        if (item.toSeq <= cursor) continue;
        after.push(item.fromSeq > cursor ? item : { ...item, fromSeq: cursor + 1 });
      } else if (item.seq > cursor) after.push(item);
    }
    const first = after[0];
    if (this.#letGo && first && (isGap(first) ? first.fromSeq : first.seq) > cursor + 1) {
      return undefined;
    }
    this.#held = undefined;
    return after;
  }
}
