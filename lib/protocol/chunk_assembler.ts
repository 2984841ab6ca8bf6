/**
 * Reassembly of chunked messages (`chunked.start`, `chunked.data` × n,
 * `chunked.end`) within limits on size, memory, count and time. One
 * implementation for both ends: the server reassembles what clients publish,
 * the client SDK what the server sends.
 *
 * @module
 */
import { concatBytes } from "./bytes.ts";
import { utf8Length } from "./encode.ts";
import type { ChunkedFrame } from "./frames.ts";
import { ProtocolError } from "./protocol_error.ts";

/**
 * A memory budget shared by several {@linkcode ChunkAssembler}s (for a server:
 * all connections), reserved per message at `chunked.start`.
 *
 * @example
 * ```ts
 * import { ReassemblyBudget } from "./chunk_assembler.ts";
 * const budget = new ReassemblyBudget(1 << 20);
 * budget.tryReserve(600_000); // true
 * budget.tryReserve(600_000); // false: over 1 MiB
 * ```
 */
export class ReassemblyBudget {
  /** Most bytes held at once. */
  readonly maxBytes: number;
  #used = 0;

  /** @throws {RangeError} when `maxBytes` is negative or not a number. */
  constructor(maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** Reserves `bytes` if they fit; false otherwise. */
  tryReserve(bytes: number): boolean {
    if (this.#used + bytes > this.maxBytes) return false;
    this.#used += bytes;
    return true;
  }

  /** Gives back what {@linkcode ReassemblyBudget.tryReserve} took. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }

  /** The limit as a refusal names it, `name` being how its reader sets it. */
  describe(name: string): string {
    return `${name} ${this.maxBytes}`;
  }
}

/**
 * How a reader of a refusal sets each limit (a server flag, a client option),
 * named in the error message so that it says what to raise.
 */
export interface ChunkLimitNames {
  /** @default {"maxMessageBytes"} */
  maxMessageBytes?: string;
  /** @default {"maxPendingBytes"} */
  maxPendingBytes?: string;
  /** @default {"maxOpenMessages"} */
  maxOpenMessages?: string;
  /** @default {"budget"} */
  budget?: string;
  /** @default {"timeoutMs"} */
  timeoutMs?: string;
}

/** Options of {@linkcode ChunkAssembler}. */
export interface ChunkAssemblerOptions {
  /**
   * Largest message accepted: a larger `totalBytes` is refused at `chunked.start`.
   * @default {Infinity}
   */
  maxMessageBytes?: number;
  /**
   * Most bytes the unfinished messages of this assembler may hold together,
   * reserved from their `totalBytes` at `chunked.start`.
   * @default {maxMessageBytes}
   */
  maxPendingBytes?: number;
  /**
   * Most unfinished messages at once.
   * @default {Infinity}
   */
  maxOpenMessages?: number;
  /** A budget shared with other assemblers. */
  budget?: ReassemblyBudget;
  /**
   * An unfinished message older than this is dropped by {@linkcode ChunkAssembler.expire}.
   * @default {30000}
   */
  timeoutMs?: number;
  /** Clock in ms, for tests. @default {Date.now} */
  now?: () => number;
  /** How the limits are named in refusals. */
  limitNames?: ChunkLimitNames;
}

interface OpenMessage {
  totalChunks: number;
  totalBytes: number;
  startedAt: number;
  parts: (string | Uint8Array)[];
  bytes: number;
  text: boolean | undefined;
}

const REMEMBERED_REFUSALS = 64;

/**
 * Reassembles the chunked messages of one connection, within limits: a
 * message may not be larger than `maxMessageBytes`, the unfinished messages
 * may not hold more than `maxPendingBytes` together (nor more than the shared
 * budget allows), nor be more than `maxOpenMessages`, and each must finish
 * within `timeoutMs`. A refused message throws a {@linkcode ProtocolError}
 * whose `id` is the `messageId`; the rest of its pieces are then ignored.
 *
 * @example
 * ```ts
 * import { ChunkAssembler } from "./chunk_assembler.ts";
 * const a = new ChunkAssembler({ maxMessageBytes: 1024 });
 * a.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 4 });
 * a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "pi" });
 * a.push({ type: "chunked.data", messageId: 1, chunkIndex: 1, data: "ng" });
 * a.push({ type: "chunked.end", messageId: 1 }); // "ping"
 * ```
 */
export class ChunkAssembler {
  readonly #maxMessageBytes: number;
  readonly #maxPendingBytes: number;
  readonly #maxOpenMessages: number;
  readonly #budget: ReassemblyBudget | undefined;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #names: Required<ChunkLimitNames>;
  readonly #open = new Map<number, OpenMessage>();
  readonly #refused: number[] = [];
  #reserved = 0;

  constructor(options: ChunkAssemblerOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? Infinity;
    this.#maxPendingBytes = options.maxPendingBytes ?? this.#maxMessageBytes;
    this.#maxOpenMessages = options.maxOpenMessages ?? Infinity;
    this.#budget = options.budget;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#names = {
      maxMessageBytes: "maxMessageBytes",
      maxPendingBytes: "maxPendingBytes",
      maxOpenMessages: "maxOpenMessages",
      budget: "budget",
      timeoutMs: "timeoutMs",
      ...options.limitNames,
    };
  }

  /** Bytes reserved for unfinished messages. */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /** Unfinished messages. */
  get openMessages(): number {
    return this.#open.size;
  }

  /**
   * Handles one chunked frame.
   *
   * @returns the whole frame (text or bytes) on `chunked.end`, else undefined.
   * @throws {ProtocolError} `too_large`, `limit_reached` or `invalid_frame`
   * (with `id` = the `messageId`) when the message is refused.
   */
  push(frame: ChunkedFrame): string | Uint8Array | undefined {
    const id = frame.messageId;
    if (frame.type === "chunked.start") return this.#start(frame.messageId, frame);
    const partial = this.#open.get(id);
    if (!partial) {
      if (this.#refused.includes(id)) return undefined;
      this.#refuse(
        id,
        "invalid_frame",
        `"${frame.type}" for unknown messageId ${id}; send "chunked.start" first`,
      );
    }
    const p = partial as OpenMessage;
    if (frame.type === "chunked.data") {
      if (frame.chunkIndex !== p.parts.length) {
        this.#fail(
          id,
          "invalid_frame",
          `Chunk ${frame.chunkIndex} of message ${id} arrived when chunk ${p.parts.length} was due; send chunks in order`,
        );
      }
      const text = typeof frame.data === "string";
      if (p.text !== undefined && p.text !== text) {
        this.#fail(id, "invalid_frame", `Message ${id} mixes text and binary chunks`);
      }
      p.text = text;
      p.bytes += text ? utf8Length(frame.data as string) : (frame.data as Uint8Array).length;
      if (p.bytes > p.totalBytes || p.parts.length >= p.totalChunks) {
        this.#fail(
          id,
          "too_large",
          `Message ${id} sent more than its announced ${p.totalBytes} bytes in ${p.totalChunks} chunks`,
        );
      }
      p.parts.push(frame.data);
      return undefined;
    }
    if (p.parts.length !== p.totalChunks || p.bytes !== p.totalBytes) {
      this.#fail(
        id,
        "invalid_frame",
        `Message ${id} ended after ${p.parts.length}/${p.totalChunks} chunks and ${p.bytes}/${p.totalBytes} bytes`,
      );
    }
    this.#close(id, p);
    return p.text === false ? concatBytes(p.parts as Uint8Array[]) : (p.parts as string[]).join("");
  }

  /**
   * Drops unfinished messages started more than `timeoutMs` ago; later pieces
   * of them are ignored.
   *
   * @returns one `invalid_frame` {@linkcode ProtocolError} per dropped message,
   * its `id` the `messageId`.
   */
  expire(now: number = this.#now()): ProtocolError[] {
    const expired: ProtocolError[] = [];
    for (const [id, p] of this.#open) {
      if (now - p.startedAt > this.#timeoutMs) {
        this.#close(id, p);
        this.#remember(id);
        expired.push(
          new ProtocolError(
            "invalid_frame",
            `Chunked message ${id} was not finished within ${this.#timeoutMs} ms (${this.#names.timeoutMs}) and was dropped after ${p.parts.length}/${p.totalChunks} chunks`,
            { id },
          ),
        );
      }
    }
    return expired;
  }

  /** Drops every unfinished message and gives back its reservation. */
  clear(): void {
    for (const [id, p] of this.#open) this.#close(id, p);
  }

  #start(id: number, f: { totalChunks: number; totalBytes: number }): undefined {
    const names = this.#names;
    if (this.#open.has(id)) {
      this.#fail(id, "invalid_frame", `Message ${id} was started twice`);
    }
    if (f.totalBytes > this.#maxMessageBytes) {
      this.#refuse(
        id,
        "too_large",
        `Message ${id} is ${f.totalBytes} bytes; the limit is ${this.#maxMessageBytes} (${names.maxMessageBytes})`,
      );
    }
    if (f.totalChunks > Math.max(1, f.totalBytes)) {
      this.#refuse(
        id,
        "invalid_frame",
        `Message ${id} announces ${f.totalChunks} chunks for ${f.totalBytes} bytes`,
      );
    }
    if (this.#reserved + f.totalBytes > this.#maxPendingBytes) {
      this.#refuse(
        id,
        "limit_reached",
        `Message ${id} would hold ${
          this.#reserved + f.totalBytes
        } bytes of unfinished messages on this connection; the limit is ${this.#maxPendingBytes} (${names.maxPendingBytes}): finish the earlier ones first`,
      );
    }
    if (this.#open.size >= this.#maxOpenMessages) {
      this.#refuse(
        id,
        "limit_reached",
        `Message ${id} would be unfinished message ${
          this.#open.size + 1
        } on this connection; the limit is ${this.#maxOpenMessages} (${names.maxOpenMessages}): finish the earlier ones first`,
      );
    }
    if (this.#budget && !this.#budget.tryReserve(f.totalBytes)) {
      this.#refuse(
        id,
        "limit_reached",
        `Unfinished chunked messages hold too much to take ${f.totalBytes} more bytes (${
          this.#budget.describe(names.budget)
        }); retry later`,
      );
    }
    this.#reserved += f.totalBytes;
    this.#open.set(id, {
      totalChunks: f.totalChunks,
      totalBytes: f.totalBytes,
      startedAt: this.#now(),
      parts: [],
      bytes: 0,
      text: undefined,
    });
    return undefined;
  }

  #close(id: number, p: OpenMessage): void {
    this.#open.delete(id);
    this.#reserved -= p.totalBytes;
    this.#budget?.release(p.totalBytes);
  }

  #remember(id: number): void {
    this.#refused.push(id);
    if (this.#refused.length > REMEMBERED_REFUSALS) this.#refused.shift();
  }

  /** Refuses a message that is not open. */
  #refuse(
    id: number,
    code: "too_large" | "limit_reached" | "invalid_frame",
    message: string,
  ): never {
    this.#remember(id);
    throw new ProtocolError(code, message, { id });
  }

  /** Discards an open message and refuses it. */
  #fail(id: number, code: "too_large" | "invalid_frame", message: string): never {
    const p = this.#open.get(id);
    if (p) this.#close(id, p);
    this.#refuse(id, code, message);
  }
}
