import { encodeBatch, encodeGap } from "../protocol/encode.ts";
import type { QueueItem } from "../queue/send_queue.ts";
import type { Delivery } from "./delivery.ts";

/** One frame ready for a socket. */
export interface BuiltFrame {
  text: string;
  /** Approximate UTF-8 size. */
  bytes: number;
  /** Messages it carries. */
  messages: number;
  /** Gap frames it carries. */
  gaps: number;
  /** Publish time of its oldest message, or undefined when it carries none. */
  oldestTs: number | undefined;
}

/**
 * Builds the frame for items taken from a queue: a lone message goes out as its
 * own shared text; several items become one `batch`. Clients that drain the
 * same messages in the same turn (the common case: same topics, no drops) get
 * the very same batch text, built once.
 */
export class FrameBuilder {
  #lastItems: readonly QueueItem<Delivery>[] = [];
  #last: BuiltFrame | undefined;

  build(items: readonly QueueItem<Delivery>[]): BuiltFrame {
    const first = items[0];
    if (items.length === 1) {
      if (first.kind === "message") {
        const m = first.message;
        return { text: m.frame, bytes: m.bytes, messages: 1, gaps: 0, oldestTs: m.ts };
      }
      if (first.kind === "control") {
        return {
          text: first.frame,
          bytes: first.frame.length,
          messages: 0,
          gaps: 0,
          oldestTs: undefined,
        };
      }
      const g = first.gap;
      const text = encodeGap(g.topic, g.fromSeq, g.toSeq, g.reason);
      return { text, bytes: text.length, messages: 0, gaps: 1, oldestTs: undefined };
    }
    if (this.#last && this.#sameMessages(items)) return this.#last;
    const parts: string[] = new Array(items.length);
    let bytes = 30 + items.length;
    let messages = 0;
    let gaps = 0;
    let oldestTs: number | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.kind === "message") {
        parts[i] = item.message.frame;
        bytes += item.message.bytes;
        messages++;
        if (oldestTs === undefined || item.message.ts < oldestTs) oldestTs = item.message.ts;
      } else if (item.kind === "gap") {
        const g = item.gap;
        parts[i] = encodeGap(g.topic, g.fromSeq, g.toSeq, g.reason);
        bytes += parts[i].length;
        gaps++;
      } else {
        throw new TypeError("A control frame cannot be part of a batch");
      }
    }
    const built: BuiltFrame = { text: encodeBatch(parts), bytes, messages, gaps, oldestTs };
    if (gaps === 0) {
      this.#lastItems = items;
      this.#last = built;
    }
    return built;
  }

  #sameMessages(items: readonly QueueItem<Delivery>[]): boolean {
    const last = this.#lastItems;
    if (last.length !== items.length) return false;
    for (let i = 0; i < items.length; i++) {
      const a = items[i];
      const b = last[i];
      if (a.kind !== "message" || b.kind !== "message" || a.message !== b.message) return false;
    }
    return true;
  }
}
