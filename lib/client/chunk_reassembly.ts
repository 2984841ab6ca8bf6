/**
 * The client's side of the chunked framing: the protocol's
 * {@linkcode ChunkAssembler} (the one the server runs) with the client's
 * limits, its refusals reported as `chunk_*` error events.
 *
 * @module
 */
import { ChunkAssembler } from "../protocol/chunk_assembler.ts";
import { parseChunkedFrame } from "../protocol/parse.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import type { ChunkLimits } from "./connect_options.ts";
import type { ChunkErrorCode } from "./events.ts";

/** The `error` event code of each refusal of the assembler. */
const ERROR_CODES: Readonly<Record<string, ChunkErrorCode>> = {
  too_large: "chunk_too_large",
  limit_reached: "chunk_limit",
  invalid_frame: "chunk_sequence",
};

/** The client options behind each limit, named in refusals. */
const LIMIT_NAMES = {
  maxMessageBytes: "chunks.maxMessageBytes",
  maxPendingBytes: "chunks.maxPendingBytes",
  maxOpenMessages: "chunks.maxTransfers",
  timeoutMs: "chunks.timeoutMs",
} as const;

/** Called for each transfer the client discards. */
export type ChunkErrorListener = (code: ChunkErrorCode, message: string) => void;

/**
 * Reassembles the server's chunked frames within the client's
 * {@linkcode ChunkLimits}; a transfer that breaks one is discarded and
 * reported to `onError`, and its later pieces are ignored.
 *
 * @example
 * ```ts
 * import { ChunkReassembly } from "./chunk_reassembly.ts";
 * const chunks = new ChunkReassembly({ maxMessageBytes: 1 << 20 }, (code) => console.warn(code));
 * chunks.push({ type: "chunked.start", messageId: 1, totalChunks: 1, totalBytes: 15 });
 * chunks.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: '{"type":"ping"}' });
 * chunks.push({ type: "chunked.end", messageId: 1 }); // '{"type":"ping"}'
 * ```
 */
export class ChunkReassembly {
  readonly #assembler: ChunkAssembler;
  readonly #onError: ChunkErrorListener;

  constructor(limits: ChunkLimits = {}, onError: ChunkErrorListener) {
    this.#assembler = new ChunkAssembler({
      maxMessageBytes: limits.maxMessageBytes ?? 16 << 20,
      maxPendingBytes: limits.maxPendingBytes ?? 32 << 20,
      maxOpenMessages: limits.maxTransfers ?? 4,
      timeoutMs: limits.timeoutMs ?? 30_000,
      limitNames: LIMIT_NAMES,
    });
    this.#onError = onError;
  }

  /**
   * Feeds one decoded `chunked.*` frame (validated here).
   *
   * @returns the whole frame's text or bytes at its `chunked.end`, else undefined.
   */
  push(frame: Record<string, unknown>): string | Uint8Array | undefined {
    try {
      return this.#assembler.push(parseChunkedFrame(frame));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.#onError(ERROR_CODES[err.code] ?? "chunk_sequence", err.message);
      return undefined;
    }
  }

  /** Discards transfers past `chunks.timeoutMs`, reporting each as `chunk_timeout`. */
  expire(now: number): void {
    for (const err of this.#assembler.expire(now)) this.#onError("chunk_timeout", err.message);
  }

  /** Drops every unfinished transfer (the connection closed). */
  clear(): void {
    this.#assembler.clear();
  }
}
