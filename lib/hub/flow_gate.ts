/**
 * The gate in front of a client's socket: whether the next frame may be
 * written, from what its {@linkcode ReadProgress} says it has read and from
 * the engine's unsent bytes, with hysteresis.
 *
 * @module
 */
import type { ServerSocket } from "../transport/socket.ts";
import type { ReadProgress } from "./read_progress.ts";

/** Flow-control settings of one session. */
export interface FlowOptions {
  /**
   * Stop writing while the engine holds more than this many unsent bytes.
   * @default {1048576}
   */
  highWaterBytes: number;
  /**
   * Resume writing once the engine holds at most this many unsent bytes.
   * @default {262144}
   */
  lowWaterBytes: number;
  /**
   * Stop writing while more than this many sent bytes are not yet confirmed by a
   * `pong` (they sit in kernel buffers or the client has not read them). The
   * limit in force is smaller for a slow reader: what it reads in half of
   * `maxLagMs` (see {@linkcode ReadWindow}).
   * @default {1048576}
   */
  maxInflightBytes: number;
  /**
   * Largest batch frame built from queued messages.
   * @default {65536}
   */
  maxFrameBytes: number;
  /**
   * How far behind a client may read. Its in-flight window holds what it reads
   * in half of this. Once its oldest unanswered `ping` or its oldest queued
   * message is older than this, it is lagged: its queue keeps only the latest
   * message per key and, while it still reads, unkeyed messages older than half
   * of this are dropped (with gaps), so what it reads stays about this recent.
   * While the unanswered ping is that old, nothing more is written. Pings go
   * out at least every third of this while data flows.
   * @default {3000}
   */
  maxLagMs: number;
}

/**
 * Stops writing while more bytes than the read window are unconfirmed, or the
 * engine holds more than `highWaterBytes` unsent; once stopped, resumes only
 * at half the window and below `lowWaterBytes`. Also closed while the client
 * lags so far that nothing more may be written (see {@linkcode FlowOptions.maxLagMs}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowGate } from "./flow_gate.ts";
 * import { BufferedProgress } from "./read_progress.ts";
 *
 * const socket = { bufferedAmount: 0 };
 * const flow = { highWaterBytes: 1000, lowWaterBytes: 100, maxInflightBytes: 1000, maxFrameBytes: 500, maxLagMs: 3000 };
 * const gate = new FlowGate(flow, socket, new BufferedProgress(socket, 1000));
 * assert.equal(gate.open(), true);
 * socket.bufferedAmount = 1500;
 * assert.equal(gate.open(), false);
 * socket.bufferedAmount = 400; // below half the window, not yet below the low-water mark
 * assert.equal(gate.open(), false);
 * socket.bufferedAmount = 50;
 * assert.equal(gate.open(), true);
 * ```
 */
export class FlowGate {
  readonly #flow: FlowOptions;
  readonly #socket: Pick<ServerSocket, "bufferedAmount">;
  readonly #progress: ReadProgress;
  #blocked = false;
  /** Set while the client lags so far that nothing more is written. */
  halted = false;

  constructor(
    flow: FlowOptions,
    socket: Pick<ServerSocket, "bufferedAmount">,
    progress: ReadProgress,
  ) {
    this.#flow = flow;
    this.#socket = socket;
    this.#progress = progress;
  }

  /** Whether the last {@linkcode FlowGate.open} said no. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /**
   * Whether a frame may be written now. The engine's unsent bytes can never
   * exceed the unconfirmed ones, so `bufferedAmount` (a runtime call) is only
   * read once unconfirmed bytes pass the water mark in question.
   */
  open(): boolean {
    const flow = this.#flow;
    if (this.halted) {
      this.#blocked = true;
      return false;
    }
    const inflight = this.#progress.inflightBytes;
    const window = this.#progress.windowBytes;
    if (this.#blocked) {
      if (inflight > window / 2) return false;
      if (inflight > flow.lowWaterBytes && this.#socket.bufferedAmount > flow.lowWaterBytes) {
        return false;
      }
      this.#blocked = false;
      return true;
    }
    if (
      inflight > window ||
      (inflight > flow.highWaterBytes && this.#socket.bufferedAmount > flow.highWaterBytes)
    ) {
      this.#blocked = true;
      return false;
    }
    return true;
  }

  /** Bytes of queued messages for the next frame: at most `maxBytes`, or what the window has left. */
  takeBytes(maxBytes: number): number {
    return Math.min(
      maxBytes,
      Math.max(1, this.#progress.windowBytes - this.#progress.inflightBytes),
    );
  }
}
