import type { Codec, EncodedFrame } from "../protocol/codec.ts";
import { utf8Length } from "../protocol/encode.ts";
import type { QueueEntry } from "../queue/send_queue.ts";
import { type BuiltFrame, builtFrame } from "./built_frame.ts";
import { type Delivery, encodingOf } from "./delivery.ts";

export { type BuiltFrame, builtFrame } from "./built_frame.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode FrameBuilder}. */
export interface FrameBuilderOptions {
  /** The wire format of the clients it builds for. @default {jsonCodec()} */
  codec: Codec;
  /**
   * Frames larger than this are sent in chunks of at most this size.
   * @default {Infinity}
   */
  chunkBytes?: number;
  /** Gives each chunked message its id. */
  nextMessageId?: () => number;
}

/**
 * Builds the frame for entries taken from a queue: a lone message goes out as
 * its own shared bytes (built once per broadcast); several become one `batch`.
 * Clients that drain the same messages in the same turn (the common case: same
 * topics, no drops) get the very same batch text, built once. One builder per
 * codec.
 */
export class FrameBuilder {
  readonly codec: Codec;
  /** See {@linkcode FrameBuilderOptions.chunkBytes}. */
  readonly chunkBytes: number;
  readonly #json: boolean;
  readonly #nextMessageId: () => number;
  #lastMessages: (Delivery | undefined)[] = [];
  #last: BuiltFrame | undefined;

  constructor(options: FrameBuilderOptions) {
    this.codec = options.codec;
    this.chunkBytes = options.chunkBytes ?? Infinity;
    this.#json = this.codec.name === "json";
    let id = 0;
    this.#nextMessageId = options.nextMessageId ?? (() => ++id);
  }

  build(entries: readonly QueueEntry<Delivery>[]): BuiltFrame {
    if (entries.length === 1) {
      const e = entries[0];
      if (e.control !== undefined) {
        const c = e.control;
        const bytes = typeof c !== "string"
          ? c.length
          : c.length * 3 <= this.chunkBytes
          ? c.length
          : utf8Length(c);
        return builtFrame(c, bytes);
      }
      if (e.gaps === undefined && e.message) {
        return this.#json ? e.message.single : encodingOf(e.message, this.codec).single;
      }
    }
    if (this.#last && this.#sameMessages(entries)) return this.#last;
    const codec = this.codec;
    const parts: EncodedFrame[] = [];
    let bytes = codec.batchOverhead;
    let messages = 0;
    let gaps = 0;
    let oldestTs: number | undefined;
    for (const e of entries) {
      if (e.control !== undefined) throw new TypeError("A control frame cannot be part of a batch");
      if (e.gaps) {
        for (const g of e.gaps) {
          const text = codec.encodeGap(g.topic, g.fromSeq, g.toSeq, g.reason);
          parts.push(text);
          bytes += text.length + codec.batchPerPart;
          gaps++;
        }
      }
      const m = e.message;
      if (m) {
        const enc = this.#json ? m : encodingOf(m, codec);
        parts.push(enc.frame);
        bytes += enc.bytes + codec.batchPerPart;
        messages++;
        if (oldestTs === undefined || m.ts < oldestTs) oldestTs = m.ts;
      }
    }
    if (parts.length === 1 && messages === 0) {
      return builtFrame(parts[0], parts[0].length, messages, gaps, oldestTs);
    }
    const built = builtFrame(codec.encodeBatch(parts), bytes, messages, gaps, oldestTs);
    if (gaps === 0) {
      this.#lastMessages = entries.map((e) => e.message);
      this.#last = built;
    }
    return built;
  }

  /**
   * The chunk frames of `frame` (`chunked.start`, `chunked.data`…,
   * `chunked.end`), made once per frame: every client sending the same shared
   * frame sends the same chunks. The `chunked.end` frame carries the frame's
   * message and gap counts.
   */
  chunk(frame: BuiltFrame): readonly BuiltFrame[] {
    if (frame.chunks !== undefined) return frame.chunks;
    const codec = this.codec;
    // As bytes, like the messages they carry: they live as long as the frame they split.
    const texts = codec.chunk(frame.text, this.#nextMessageId(), this.chunkBytes)
      .map((t) => typeof t === "string" ? encoder.encode(t) : t);
    const last = texts.length - 1;
    const chunks = texts.map((text, i) =>
      i === last
        ? builtFrame(text, codec.byteLength(text), frame.messages, frame.gaps, frame.oldestTs)
        : builtFrame(text, codec.byteLength(text))
    );
    frame.chunks = chunks;
    return chunks;
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
