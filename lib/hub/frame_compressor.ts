import { constants, deflateRawSync } from "node:zlib";
import type { BuiltFrame } from "./built_frame.ts";

/** Options of {@linkcode FrameCompressor}. */
export interface FrameCompressorOptions {
  /**
   * Frames smaller than this (uncompressed bytes) are sent as they are.
   * @default {1024}
   */
  threshold?: number;
  /**
   * zlib level, 1 (fastest) to 9 (smallest).
   * @default {6}
   */
  level?: number;
  /**
   * Most bytes compressed per second; past it, frames go out uncompressed until
   * the next second. Bounds the event-loop time compression may take.
   * @default {67108864}
   */
  budgetBytesPerSec?: number;
  /** Clock in ms, for tests. @default {performance.now} */
  now?: () => number;
}

/** What the compressor did, for `/metrics`. */
export interface CompressionStats {
  /** Distinct frames compressed (once each, however many clients got them). */
  compressed: number;
  /** Their uncompressed and compressed bytes. */
  inputBytes: number;
  outputBytes: number;
  /** CPU time spent compressing, in ms. */
  cpuMs: number;
  /** Frames sent compressed to clients, and their bytes before and after compression. */
  framesSent: number;
  sentRawBytes: number;
  sentWireBytes: number;
  /** Frames sent uncompressed because the budget was spent, or compression did not shrink them. */
  skippedBudget: number;
  skippedNoGain: number;
}

const SYNC_FLUSH_TAIL = 4; // 00 00 ff ff, removed per RFC 7692 §7.2.1
/** Marks a frame that compression did not shrink. */
const NO_GAIN = new Uint8Array(0);

/**
 * Compresses frames for permessage-deflate (RFC 7692) once, however many
 * clients receive them: the payload is cached on the {@linkcode BuiltFrame},
 * which every client sending that broadcast (its message, its chunks, a batch
 * shared in one turn) shares. That needs `server_no_context_takeover`: every
 * message is compressed from a fresh state, so its bytes are the same for
 * every connection.
 *
 * Compression runs synchronously: Deno's `node:zlib` runs its asynchronous
 * calls on the event-loop thread as well (no timer fired during a 20 ms
 * asynchronous deflate), so they would not run in parallel anyway. The work is
 * bounded by the size threshold, by compressing each shared frame once, and
 * by a per-second byte budget.
 *
 * @example
 * ```ts
 * import { FrameCompressor } from "./frame_compressor.ts";
 * import { builtFrame } from "./built_frame.ts";
 * const c = new FrameCompressor({ threshold: 100 });
 * const frame = builtFrame("x".repeat(5000), 5000);
 * c.deflate(frame)?.length; // a few dozen bytes, computed once
 * c.deflate(frame) === frame.deflated; // true: the cached payload
 * ```
 */
export class FrameCompressor {
  /** See {@linkcode FrameCompressorOptions.threshold}. */
  readonly threshold: number;
  readonly #level: number;
  readonly #budget: number;
  readonly #now: () => number;
  readonly #encoder = new TextEncoder();
  #windowStart = -Infinity;
  #windowBytes = 0;
  readonly #stats: CompressionStats = {
    compressed: 0,
    inputBytes: 0,
    outputBytes: 0,
    cpuMs: 0,
    framesSent: 0,
    sentRawBytes: 0,
    sentWireBytes: 0,
    skippedBudget: 0,
    skippedNoGain: 0,
  };

  constructor(options: FrameCompressorOptions = {}) {
    this.threshold = options.threshold ?? 1024;
    this.#level = options.level ?? 6;
    this.#budget = options.budgetBytesPerSec ?? 64 << 20;
    this.#now = options.now ?? (() => performance.now());
    if (!(this.#level >= 1 && this.#level <= 9 && Number.isInteger(this.#level))) {
      throw new RangeError(`Compression level must be an integer from 1 to 9, got ${this.#level}`);
    }
  }

  /**
   * The frame's permessage-deflate payload, compressed on first call and
   * cached on the frame; undefined when the frame should go out uncompressed
   * (below the threshold, over the budget, or not smaller compressed).
   */
  deflate(frame: BuiltFrame): Uint8Array | undefined {
    const cached = frame.deflated;
    if (cached !== undefined) return cached === NO_GAIN ? undefined : cached;
    if (frame.bytes < this.threshold) return undefined;
    const start = this.#now();
    if (start - this.#windowStart >= 1000) {
      this.#windowStart = start;
      this.#windowBytes = 0;
    }
    if (this.#windowBytes + frame.bytes > this.#budget) {
      this.#stats.skippedBudget++;
      return undefined;
    }
    this.#windowBytes += frame.bytes;
    const input = typeof frame.text === "string" ? this.#encoder.encode(frame.text) : frame.text;
    const out = deflateRawSync(input, {
      level: this.#level,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    const payload = out.subarray(0, out.length - SYNC_FLUSH_TAIL);
    const s = this.#stats;
    s.cpuMs += this.#now() - start;
    s.compressed++;
    s.inputBytes += input.length;
    s.outputBytes += payload.length;
    if (payload.length >= input.length) {
      s.skippedNoGain++;
      frame.deflated = NO_GAIN;
      return undefined;
    }
    frame.deflated = payload;
    return payload;
  }

  /** Counts one frame sent compressed to one client. */
  sent(rawBytes: number, wireBytes: number): void {
    this.#stats.framesSent++;
    this.#stats.sentRawBytes += rawBytes;
    this.#stats.sentWireBytes += wireBytes;
  }

  /** A copy of the counters. */
  stats(): CompressionStats {
    return { ...this.#stats };
  }
}
