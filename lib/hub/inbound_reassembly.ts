import {
  ChunkAssembler,
  type ChunkLimitNames,
  ReassemblyBudget,
} from "../protocol/chunk_assembler.ts";
import type { ChunkedFrame } from "../protocol/frames.ts";
import type { ProtocolError } from "../protocol/protocol_error.ts";
import type { ClientSession } from "./client_session.ts";

/** The settings behind each limit, named in refusals. */
const LIMIT_NAMES: Readonly<ChunkLimitNames> = {
  maxMessageBytes: "--max-message-bytes",
  maxPendingBytes: "--max-message-bytes",
  budget: "--max-reassembly-bytes",
  timeoutMs: "--reassembly-timeout",
};

/** Options of {@linkcode InboundReassembly}. */
export interface InboundReassemblyOptions {
  /** Largest chunked message, and most unfinished bytes per connection. @default {4194304} */
  maxMessageBytes?: number;
  /** Most unfinished bytes for all connections together. @default {67108864} */
  maxReassemblyBytes?: number;
  /** An unfinished message older than this is dropped. @default {30000} */
  timeoutMs?: number;
}

/**
 * Reassembles the chunked messages clients send, each connection with its own
 * {@linkcode ChunkAssembler} (made on its first chunk) and all of them within
 * one shared memory budget.
 */
export class InboundReassembly {
  readonly #maxMessageBytes: number;
  readonly #timeoutMs: number;
  readonly #budget: ReassemblyBudget;

  constructor(options: InboundReassemblyOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? 4 << 20;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#budget = new ReassemblyBudget(options.maxReassemblyBytes ?? 64 << 20);
  }

  /** Bytes of unfinished chunked messages held for all connections. */
  get heldBytes(): number {
    return this.#budget.used;
  }

  /**
   * Feeds one chunked frame of `session`.
   *
   * @returns the whole message (JSON text or MessagePack bytes) on its
   * `chunked.end`, else undefined.
   * @throws {ProtocolError} when the message is refused (see {@linkcode ChunkAssembler.push}).
   */
  push(session: ClientSession, frame: ChunkedFrame): string | Uint8Array | undefined {
    session.reassembly ??= new ChunkAssembler({
      maxMessageBytes: this.#maxMessageBytes,
      budget: this.#budget,
      timeoutMs: this.#timeoutMs,
      limitNames: LIMIT_NAMES,
    });
    return session.reassembly.push(frame);
  }

  /** Drops the session's messages past the timeout; one error to send per message. */
  expire(session: ClientSession, now: number): ProtocolError[] {
    return session.reassembly?.expire(now) ?? [];
  }
}
