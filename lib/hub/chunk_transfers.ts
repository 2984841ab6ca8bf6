/**
 * The large frames a session is sending in chunks (`chunked.start`, `data`…,
 * `end`), in order, and what may pass the one under way.
 *
 * @module
 */
import type { TakeHold } from "../queue/send_queue.ts";
import type { BuiltFrame, FrameBuilder } from "./frame_builder.ts";

/** A large frame being sent in chunks. */
interface Transfer {
  readonly frames: readonly BuiltFrame[];
  next: number;
  /** What the queue keeps back meanwhile; undefined keeps everything back. */
  readonly hold: TakeHold | undefined;
}

/**
 * Chunked transfers of one session. Only the first is sending; while it is
 * the only one and came from a single message, queued frames of other topics
 * may pass it ({@linkcode ChunkTransfers.passable}), so a large message delays
 * a small one by about one chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtFrame, FrameBuilder } from "./frame_builder.ts";
 * import { ChunkTransfers } from "./chunk_transfers.ts";
 * import { jsonCodec } from "../protocol/codec.ts";
 *
 * const builder = new FrameBuilder({ codec: jsonCodec(), chunkBytes: 1024 });
 * const transfers = new ChunkTransfers(builder, 900);
 * const text = JSON.stringify({ type: "message", topic: "t", seq: 1, ts: 0, data: "x".repeat(3000) });
 * transfers.start(builtFrame(text, text.length, 1), "t");
 * const written: unknown[] = [];
 * let done: number | undefined;
 * while (done === undefined) done = transfers.writeNext((f) => written.push(f.text));
 * const first = written[0] as Uint8Array; // the JSON text, as UTF-8 bytes
 * assert.equal(JSON.parse(new TextDecoder().decode(first)).type, "chunked.start");
 * assert.equal(done, written.length);
 * assert.equal(transfers.current, undefined);
 * ```
 */
export class ChunkTransfers {
  /** Unconfirmed bytes above which the next chunk waits: two chunks' worth. */
  readonly windowBytes: number;
  readonly #builder: FrameBuilder;
  readonly #maxCost: number;
  readonly #list: Transfer[] = [];

  /**
   * @param builder chunks frames (its `chunkBytes` is the piece size).
   * @param maxCost most bytes of queued messages that may pass in one frame.
   */
  constructor(builder: FrameBuilder, maxCost: number) {
    this.#builder = builder;
    this.#maxCost = maxCost;
    this.windowBytes = 2 * builder.chunkBytes;
  }

  /** The transfer being sent: chunk frames sent of its total, or undefined. */
  get current(): { sent: number; total: number } | undefined {
    const t = this.#list[0];
    return t === undefined ? undefined : { sent: t.next, total: t.frames.length };
  }

  /** What may be written ahead of the next chunk, or undefined when nothing may. */
  get passable(): TakeHold | undefined {
    return this.#list.length === 1 ? this.#list[0].hold : undefined;
  }

  /**
   * Queues `frame` for sending in chunks. `topic` is the topic of the single
   * message it carries (its topic's later messages wait for it), undefined to
   * hold everything back behind it.
   */
  start(frame: BuiltFrame, topic: string | undefined): void {
    this.#list.push({
      frames: this.#builder.chunk(frame),
      next: 0,
      hold: topic === undefined ? undefined : { topics: new Set([topic]), maxCost: this.#maxCost },
    });
  }

  /**
   * Writes the next chunk of the current transfer (`chunked.start` goes with
   * the first piece, `chunked.end` with the last).
   *
   * @returns the transfer's number of frames when this finished it, else undefined.
   */
  writeNext(write: (frame: BuiltFrame) => void): number | undefined {
    const t = this.#list[0];
    if (t === undefined) return undefined;
    const last = t.frames.length - 1;
    do write(t.frames[t.next++]); while (t.next === 1 || t.next === last);
    if (t.next <= last) return undefined;
    this.#list.shift();
    return t.frames.length;
  }
}
