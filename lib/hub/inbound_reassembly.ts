/**
 * Reassembly of the chunked messages clients send, within two budgets: one
 * for all connections, and a share of it per client address, so a few
 * connections cannot hold the whole budget and lock everyone else out.
 *
 * @module
 */
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
  /**
   * Most unfinished bytes for the connections of one address together.
   * @default {the larger of maxMessageBytes and a quarter of maxReassemblyBytes}
   */
  maxAddressBytes?: number;
  /** An unfinished message older than this is dropped. @default {30000} */
  timeoutMs?: number;
}

/**
 * One address's share of the shared budget. Every connection of the address
 * gets its own share object, all counting in one map entry (dropped when it
 * holds nothing), so the share holds however many connections come and go.
 */
class AddressShare extends ReassemblyBudget {
  readonly #address: string;
  readonly #held: Map<string, number>;
  readonly #total: ReassemblyBudget;

  constructor(
    address: string,
    maxBytes: number,
    held: Map<string, number>,
    total: ReassemblyBudget,
  ) {
    super(maxBytes);
    this.#address = address;
    this.#held = held;
    this.#total = total;
  }

  override get used(): number {
    return this.#held.get(this.#address) ?? 0;
  }

  override tryReserve(bytes: number): boolean {
    const used = this.used;
    if (used + bytes > this.maxBytes || !this.#total.tryReserve(bytes)) return false;
    this.#held.set(this.#address, used + bytes);
    return true;
  }

  override release(bytes: number): void {
    const used = this.used;
    const freed = Math.min(used, bytes);
    if (used - freed > 0) this.#held.set(this.#address, used - freed);
    else this.#held.delete(this.#address);
    this.#total.release(freed);
  }

  override describe(name: string): string {
    return `at most ${this.maxBytes} per address, ${this.#total.describe(name)} for all`;
  }
}

/**
 * Reassembles the chunked messages clients send, each connection with its own
 * {@linkcode ChunkAssembler} (made on its first chunk), its address's share
 * and the shared budget.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InboundReassembly } from "./inbound_reassembly.ts";
 * const r = new InboundReassembly({ maxReassemblyBytes: 64 << 20 });
 * assert.equal(r.maxAddressBytes, 16 << 20); // a quarter of the whole
 * ```
 */
export class InboundReassembly {
  /** See {@linkcode InboundReassemblyOptions.maxAddressBytes}. */
  readonly maxAddressBytes: number;
  readonly #maxMessageBytes: number;
  readonly #timeoutMs: number;
  readonly #budget: ReassemblyBudget;
  readonly #held = new Map<string, number>();

  constructor(options: InboundReassemblyOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? 4 << 20;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    const total = options.maxReassemblyBytes ?? 64 << 20;
    this.#budget = new ReassemblyBudget(total);
    this.maxAddressBytes = options.maxAddressBytes ??
      Math.max(this.#maxMessageBytes, Math.floor(total / 4));
  }

  /** Bytes of unfinished chunked messages held for all connections. */
  get heldBytes(): number {
    return this.#budget.used;
  }

  /** Addresses holding unfinished chunked messages now. */
  get addresses(): number {
    return this.#held.size;
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
      budget: new AddressShare(session.address, this.maxAddressBytes, this.#held, this.#budget),
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
