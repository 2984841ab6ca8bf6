import { encodeBatch, encodeGap } from "../protocol/encode.ts";
import type { QueueEntry } from "../queue/send_queue.ts";
import type { Delivery } from "./delivery.ts";

/** One frame ready for a socket. */
export interface BuiltFrame {
  readonly text: string;
  /** Approximate UTF-8 size. */
  readonly bytes: number;
  /** Messages it carries. */
  readonly messages: number;
  /** Gap notices it carries. */
  readonly gaps: number;
  /** Publish time of its oldest message, or undefined when it carries none. */
  readonly oldestTs: number | undefined;
}

/**
 * Builds the frame for entries taken from a queue: a lone message goes out as
 * its own shared text (built once per broadcast); several become one `batch`.
 * Clients that drain the same messages in the same turn (the common case: same
 * topics, no drops) get the very same batch text, built once.
 */
export class FrameBuilder {
  #lastMessages: (Delivery | undefined)[] = [];
  #last: BuiltFrame | undefined;

  build(entries: readonly QueueEntry<Delivery>[]): BuiltFrame {
    if (entries.length === 1) {
      const e = entries[0];
      if (e.control !== undefined) {
        return {
          text: e.control,
          bytes: e.control.length,
          messages: 0,
          gaps: 0,
          oldestTs: undefined,
        };
      }
      if (e.gaps === undefined && e.message) return e.message.single;
    }
    if (this.#last && this.#sameMessages(entries)) return this.#last;
    const parts: string[] = [];
    let bytes = 30;
    let messages = 0;
    let gaps = 0;
    let oldestTs: number | undefined;
    for (const e of entries) {
      if (e.control !== undefined) throw new TypeError("A control frame cannot be part of a batch");
      if (e.gaps) {
        for (const g of e.gaps) {
          const text = encodeGap(g.topic, g.fromSeq, g.toSeq, g.reason);
          parts.push(text);
          bytes += text.length + 1;
          gaps++;
        }
      }
      const m = e.message;
      if (m) {
        parts.push(m.frame);
        bytes += m.bytes + 1;
        messages++;
        if (oldestTs === undefined || m.ts < oldestTs) oldestTs = m.ts;
      }
    }
    if (parts.length === 1 && messages === 0) {
      return { text: parts[0], bytes: parts[0].length, messages, gaps, oldestTs };
    }
    const built: BuiltFrame = { text: encodeBatch(parts), bytes, messages, gaps, oldestTs };
    if (gaps === 0) {
      this.#lastMessages = entries.map((e) => e.message);
      this.#last = built;
    }
    return built;
  }

  #sameMessages(entries: readonly QueueEntry<Delivery>[]): boolean {
    const last = this.#lastMessages;
    if (last.length !== entries.length) return false;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.gaps !== undefined || e.message !== last[i]) return false;
    }
    return true;
  }
}
