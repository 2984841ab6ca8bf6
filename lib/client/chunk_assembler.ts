/**
 * Reassembles chunked frames (`chunked.start`, `chunked.data` × n,
 * `chunked.end`) into the original frame, with bounds on memory and time so a
 * broken or hostile stream cannot grow the client without limit.
 *
 * @module
 */
import { utf8Length } from "../protocol/encode.ts";
import type { ChunkFrame } from "./wire.ts";

/** Bounds on reassembly. */
export interface ChunkLimits {
  /**
   * Largest reassembled frame, in bytes; a larger `totalBytes` is refused at
   * `chunked.start`.
   * @default {16777216}
   */
  maxMessageBytes?: number;
  /**
   * Bytes held by all unfinished transfers together.
   * @default {33554432}
   */
  maxPendingBytes?: number;
  /**
   * Unfinished transfers held at once.
   * @default {4}
   */
  maxTransfers?: number;
  /**
   * A transfer not finished this many milliseconds after its `chunked.start`
   * is discarded.
   * @default {30000}
   */
  timeoutMs?: number;
}

/** Why a transfer was discarded. */
export type ChunkErrorCode =
  | "chunk_too_large"
  | "chunk_timeout"
  | "chunk_sequence"
  | "chunk_limit";

/** A transfer was discarded; `messageId` names it. */
export class ChunkError extends Error {
  readonly code: ChunkErrorCode;
  readonly messageId: string | number;

  constructor(code: ChunkErrorCode, messageId: string | number, message: string) {
    super(message);
    this.name = "ChunkError";
    this.code = code;
    this.messageId = messageId;
  }
}

interface Transfer {
  id: string | number;
  totalChunks: number;
  totalBytes: number;
  startedAt: number;
  parts: (string | Uint8Array)[];
  bytes: number;
}

const REMEMBER_DISCARDED = 32;

function sizeOf(part: string | Uint8Array): number {
  return typeof part === "string" ? utf8Length(part) : part.byteLength;
}

function join(parts: (string | Uint8Array)[], bytes: number): string | Uint8Array {
  if (parts.every((p) => typeof p === "string")) return (parts as string[]).join("");
  const out = new Uint8Array(bytes);
  const encoder = new TextEncoder();
  let at = 0;
  for (const p of parts) {
    const b = typeof p === "string" ? encoder.encode(p) : p;
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * Holds unfinished chunked transfers and hands back each original frame's data
 * when its `chunked.end` arrives. Frames of a discarded transfer that arrive
 * later are ignored without further errors.
 *
 * @example
 * ```ts
 * import { ChunkAssembler } from "./chunk_assembler.ts";
 * const chunks = new ChunkAssembler({ maxMessageBytes: 1 << 20 });
 * chunks.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 4 });
 * chunks.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: '{"a' });
 * chunks.push({ type: "chunked.data", messageId: 1, chunkIndex: 1, data: "}" });
 * chunks.push({ type: "chunked.end", messageId: 1 }); // '{"a}'
 * ```
 */
export class ChunkAssembler {
  readonly #maxMessageBytes: number;
  readonly #maxPendingBytes: number;
  readonly #maxTransfers: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #transfers = new Map<string | number, Transfer>();
  readonly #discarded: (string | number)[] = [];
  #pendingBytes = 0;

  constructor(limits: ChunkLimits = {}, now: () => number = Date.now) {
    this.#maxMessageBytes = limits.maxMessageBytes ?? 16 << 20;
    this.#maxPendingBytes = limits.maxPendingBytes ?? 32 << 20;
    this.#maxTransfers = limits.maxTransfers ?? 4;
    this.#timeoutMs = limits.timeoutMs ?? 30_000;
    this.#now = now;
  }

  /** Bytes held by unfinished transfers. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Unfinished transfers. */
  get transfers(): number {
    return this.#transfers.size;
  }

  /**
   * Feeds one chunk frame.
   *
   * @returns the original frame's data (text or bytes) on a complete
   * `chunked.end`, otherwise `undefined`.
   * @throws {ChunkError} when the frame breaks a limit or the sequence; the
   * transfer is discarded.
   */
  push(frame: ChunkFrame): string | Uint8Array | undefined {
    const id = frame.messageId;
    if (frame.type === "chunked.start") {
      this.#start(frame);
      return undefined;
    }
    const t = this.#transfers.get(id);
    if (!t) {
      if (this.#discarded.includes(id)) return undefined;
      throw new ChunkError(
        "chunk_sequence",
        id,
        `"${frame.type}" for unknown transfer ${JSON.stringify(id)} (no chunked.start seen)`,
      );
    }
    if (this.#now() - t.startedAt > this.#timeoutMs) {
      this.#discard(t);
      throw this.#timeoutError(t);
    }
    if (frame.type === "chunked.data") {
      this.#data(t, frame.chunkIndex, frame.data);
      return undefined;
    }
    this.#discard(t); // finished either way; late frames of it are ignored
    if (t.parts.length !== t.totalChunks || t.bytes !== t.totalBytes) {
      throw new ChunkError(
        "chunk_sequence",
        id,
        `Transfer ${JSON.stringify(id)} ended with ${t.parts.length}/${t.totalChunks} chunks ` +
          `and ${t.bytes}/${t.totalBytes} bytes`,
      );
    }
    return join(t.parts, t.bytes);
  }

  /**
   * Discards transfers older than the time limit.
   *
   * @returns one {@linkcode ChunkError} per discarded transfer.
   */
  sweep(): ChunkError[] {
    const now = this.#now();
    const errors: ChunkError[] = [];
    for (const t of [...this.#transfers.values()]) {
      if (now - t.startedAt > this.#timeoutMs) {
        this.#discard(t);
        errors.push(this.#timeoutError(t));
      }
    }
    return errors;
  }

  /** Drops every unfinished transfer (e.g. when the connection closes). */
  clear(): void {
    this.#transfers.clear();
    this.#pendingBytes = 0;
  }

  #start(f: { messageId: string | number; totalChunks: number; totalBytes: number }): void {
    const id = f.messageId;
    const old = this.#transfers.get(id);
    if (old) {
      this.#discard(old);
      throw new ChunkError("chunk_sequence", id, `Second chunked.start for ${JSON.stringify(id)}`);
    }
    if (
      !Number.isSafeInteger(f.totalChunks) || f.totalChunks < 1 ||
      !Number.isSafeInteger(f.totalBytes) || f.totalBytes < 0
    ) {
      this.#remember(id);
      throw new ChunkError(
        "chunk_sequence",
        id,
        `chunked.start ${JSON.stringify(id)} needs positive integer totalChunks and totalBytes`,
      );
    }
    if (f.totalBytes > this.#maxMessageBytes) {
      this.#remember(id);
      throw new ChunkError(
        "chunk_too_large",
        id,
        `Chunked frame ${JSON.stringify(id)} of ${f.totalBytes} bytes exceeds the client's ` +
          `maxMessageBytes ${this.#maxMessageBytes}; raise chunks.maxMessageBytes to accept it`,
      );
    }
    if (this.#transfers.size >= this.#maxTransfers) {
      this.#remember(id);
      throw new ChunkError(
        "chunk_limit",
        id,
        `${this.#transfers.size} chunked transfers already in progress (chunks.maxTransfers)`,
      );
    }
    this.#transfers.set(id, {
      id,
      totalChunks: f.totalChunks,
      totalBytes: f.totalBytes,
      startedAt: this.#now(),
      parts: [],
      bytes: 0,
    });
  }

  #data(t: Transfer, index: number, data: string | Uint8Array): void {
    if (index !== t.parts.length || index >= t.totalChunks) {
      this.#discard(t);
      throw new ChunkError(
        "chunk_sequence",
        t.id,
        `Transfer ${JSON.stringify(t.id)}: chunk ${index} arrived, expected ${t.parts.length}`,
      );
    }
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      this.#discard(t);
      throw new ChunkError("chunk_sequence", t.id, `Chunk ${index} has no text or bytes data`);
    }
    const size = sizeOf(data);
    if (t.bytes + size > t.totalBytes) {
      this.#discard(t);
      throw new ChunkError(
        "chunk_too_large",
        t.id,
        `Transfer ${JSON.stringify(t.id)} sent more than its declared ${t.totalBytes} bytes`,
      );
    }
    if (this.#pendingBytes + size > this.#maxPendingBytes) {
      this.#discard(t);
      throw new ChunkError(
        "chunk_limit",
        t.id,
        `Unfinished chunked transfers would hold over ${this.#maxPendingBytes} bytes ` +
          "(chunks.maxPendingBytes)",
      );
    }
    t.parts.push(data);
    t.bytes += size;
    this.#pendingBytes += size;
  }

  #discard(t: Transfer): void {
    if (this.#transfers.delete(t.id)) this.#pendingBytes -= t.bytes;
    this.#remember(t.id);
  }

  #remember(id: string | number): void {
    this.#discarded.push(id);
    if (this.#discarded.length > REMEMBER_DISCARDED) this.#discarded.shift();
  }

  #timeoutError(t: Transfer): ChunkError {
    return new ChunkError(
      "chunk_timeout",
      t.id,
      `Transfer ${JSON.stringify(t.id)} did not finish within ${this.#timeoutMs} ms ` +
        `(${t.parts.length}/${t.totalChunks} chunks)`,
    );
  }
}
