/**
 * How a session learns how much of what it wrote its client has read: the
 * signal its flow control, lag policy and liveness run on.
 *
 * - {@linkcode PingLedger}: every probe (a `ping`) carries the number of bytes
 *   written before it, and its answer confirms the client read that far. The
 *   probe is an application `ping {id}` for protocol-aware clients, answered by
 *   `pong {id}`, or an RFC 6455 ping frame for plain clients, answered by their
 *   WebSocket itself (browsers, `ws`, Python `websockets`), which needs no
 *   client code.
 * - {@linkcode BufferedProgress}: for engines without ping/pong
 *   (`Deno.upgradeWebSocket`), the bytes the engine has not yet handed to the
 *   kernel (`bufferedAmount`). It rises only once the kernel's socket buffers
 *   (about 4 MB on loopback) are full, so a stalled client is noticed that
 *   much later, and a slow reader's window is what the kernel holds.
 *
 * @module
 */
import type { Codec } from "../protocol/codec.ts";
import { encodePing } from "../protocol/encode.ts";
import type { ClientLevel } from "../protocol/subprotocol.ts";
import { encodeWirePing } from "../protocol/wire_ping.ts";
import type { ServerSocket } from "../transport/socket.ts";
import type { FlowOptions } from "./flow_gate.ts";
import { ReadWindow } from "./read_window.ts";

/** Which signal a {@linkcode ReadProgress} runs on. */
export type ProgressKind = "app-ping" | "wire-ping" | "buffered";

/** What a session knows of its client's reading. */
export interface ReadProgress {
  readonly kind: ProgressKind;
  /** Bytes written so far. */
  readonly sentBytes: number;
  /** Bytes written that are not known to be read. */
  readonly inflightBytes: number;
  /** Unconfirmed bytes allowed now. */
  readonly windowBytes: number;
  /**
   * Since when what the client was sent has gone unconfirmed: the send time of
   * the oldest unanswered probe, or (buffered) since the engine's unsent bytes
   * last fell. Undefined while nothing is outstanding.
   */
  readonly unansweredSince: number | undefined;
  /** When the client last confirmed new bytes, if ever. */
  readonly progressAt: number | undefined;
  /** When the client last answered a probe, if ever (buffered: never). */
  readonly lastAnswerAt: number | undefined;
  /**
   * Records `bytes` written; probes after each quarter of the window. `now` is
   * read only when a probe goes out: this runs once per frame per client.
   */
  wrote(bytes: number, now: () => number): void;
  /** Probes now when bytes were written since the last probe (after a chunk). */
  probeIfWritten(now: number): void;
  /**
   * Heartbeat tick: shrinks the window while a probe waits, and probes when
   * `heartbeatMs` passed since the last one, or `busyMs` passed and bytes were
   * written since.
   */
  tick(now: number, heartbeatMs: number, busyMs: number): void;
  /** An answer confirming `offset` bytes (undefined: the latest probe). False when it is not one. */
  answered(offset: number | undefined, now: number): boolean;
}

/** Options of {@linkcode PingLedger}. */
export interface PingLedgerOptions {
  kind: "app-ping" | "wire-ping";
  /** Sends a probe carrying `offset`, the bytes written before it. */
  probe(offset: number): void;
  /** The window, sized to how fast the client reads. */
  window: ReadWindow;
  /** The time the session opened: the heartbeat counts from it. */
  openedAt: number;
}

interface Probe {
  /** The byte offset it carried. */
  readonly id: number;
  readonly at: number;
  /** Unconfirmed bytes ahead of it when it went out. */
  readonly ahead: number;
}

/**
 * Progress from probes and their answers. An answer confirms every probe up to
 * its offset (RFC 6455 lets a peer answer only the latest of several pings).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PingLedger } from "./read_progress.ts";
 * import type { Codec } from "../protocol/codec.ts";
import { encodePing } from "../protocol/encode.ts";
import type { ClientLevel } from "../protocol/subprotocol.ts";
import { encodeWirePing } from "../protocol/wire_ping.ts";
import type { ServerSocket } from "../transport/socket.ts";
import type { FlowOptions } from "./flow_gate.ts";
import { ReadWindow } from "./read_window.ts";
 *
 * const sent: number[] = [];
 * const ledger = new PingLedger({
 *   kind: "wire-ping",
 *   probe: (offset) => sent.push(offset),
 *   window: new ReadWindow({ maxBytes: 1 << 20, maxLagMs: 3000 }),
 *   openedAt: 0,
 * });
 * ledger.wrote(5000, () => 10); // a quarter of the 16 KiB initial window: a probe goes out
 * assert.deepEqual(sent, [5000]);
 * assert.equal(ledger.inflightBytes, 5000);
 * ledger.answered(5000, 12);
 * assert.equal(ledger.inflightBytes, 0);
 * ```
 */
export class PingLedger implements ReadProgress {
  readonly kind: "app-ping" | "wire-ping";
  readonly #probe: (offset: number) => void;
  readonly #window: ReadWindow;
  #sentBytes = 0;
  #ackedBytes = 0;
  #probes: Probe[] = [];
  #progressAt: number | undefined;
  #lastAnswerAt: number | undefined;
  #lastProbeBytes = 0;
  #lastProbeAt: number;

  constructor(options: PingLedgerOptions) {
    this.kind = options.kind;
    this.#probe = options.probe;
    this.#window = options.window;
    this.#lastProbeAt = options.openedAt;
  }

  get sentBytes(): number {
    return this.#sentBytes;
  }

  get inflightBytes(): number {
    return this.#sentBytes - this.#ackedBytes;
  }

  get windowBytes(): number {
    return this.#window.bytes;
  }

  get unansweredSince(): number | undefined {
    return this.#probes[0]?.at;
  }

  get progressAt(): number | undefined {
    return this.#progressAt;
  }

  get lastAnswerAt(): number | undefined {
    return this.#lastAnswerAt;
  }

  wrote(bytes: number, now: () => number): void {
    this.#sentBytes += bytes;
    if (this.#sentBytes - this.#lastProbeBytes >= this.#window.bytes / 4) this.#send(now());
  }

  probeIfWritten(now: number): void {
    if (this.#sentBytes > this.#lastProbeBytes) this.#send(now);
  }

  tick(now: number, heartbeatMs: number, busyMs: number): void {
    const oldest = this.#probes[0];
    if (oldest !== undefined) this.#window.waiting(oldest.ahead, now - oldest.at);
    const sinceLast = now - this.#lastProbeAt;
    if (
      sinceLast >= heartbeatMs ||
      (sinceLast >= busyMs && this.#sentBytes > this.#lastProbeBytes)
    ) this.#send(now);
  }

  answered(offset: number | undefined, now: number): boolean {
    const confirmed = offset ?? this.#lastProbeBytes;
    if (!(confirmed >= 0 && confirmed <= this.#sentBytes)) return false;
    if (confirmed > this.#ackedBytes) {
      this.#ackedBytes = confirmed;
      this.#progressAt = now;
    }
    let i = 0;
    while (i < this.#probes.length && this.#probes[i].id <= confirmed) i++;
    if (i > 0) {
      const last = this.#probes[i - 1];
      this.#window.answered(last.ahead, now - last.at);
      this.#probes.splice(0, i);
    }
    this.#lastAnswerAt = now;
    return true;
  }

  #send(now: number): void {
    const id = this.#sentBytes;
    this.#probe(id);
    this.#probes.push({ id, at: now, ahead: id - this.#ackedBytes });
    this.#lastProbeBytes = id;
    this.#lastProbeAt = now;
  }
}

/**
 * Progress from the engine's unsent bytes, for engines that expose no
 * ping/pong. The client has "confirmed" whatever the engine handed to the
 * kernel; its window is the high-water mark.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferedProgress } from "./read_progress.ts";
 *
 * const socket = { bufferedAmount: 0 };
 * const progress = new BufferedProgress(socket, 1 << 20);
 * progress.wrote(4096);
 * assert.equal(progress.inflightBytes, 0); // the kernel took it
 * socket.bufferedAmount = 70_000;
 * progress.tick(100, 15_000, 1000);
 * assert.equal(progress.unansweredSince, 100); // the kernel is full: waiting since now
 * ```
 */
export class BufferedProgress implements ReadProgress {
  readonly kind = "buffered";
  readonly windowBytes: number;
  readonly lastAnswerAt = undefined;
  readonly #socket: { readonly bufferedAmount: number };
  #sentBytes = 0;
  #sampledSent = 0;
  #sampledBuffered = 0;
  #unansweredSince: number | undefined;
  #progressAt: number | undefined;

  /**
   * @param socket what reports the engine's unsent bytes.
   * @param windowBytes the most unsent bytes written ahead (`--high-water-bytes`).
   */
  constructor(socket: { readonly bufferedAmount: number }, windowBytes: number) {
    this.#socket = socket;
    this.windowBytes = windowBytes;
  }

  get sentBytes(): number {
    return this.#sentBytes;
  }

  get inflightBytes(): number {
    return this.#socket.bufferedAmount;
  }

  get unansweredSince(): number | undefined {
    return this.#unansweredSince;
  }

  get progressAt(): number | undefined {
    return this.#progressAt;
  }

  wrote(bytes: number): void {
    this.#sentBytes += bytes;
  }

  probeIfWritten(): void {}

  /** Samples the engine's unsent bytes: progress is their falling, or bytes written with none left. */
  tick(now: number): void {
    const buffered = this.#socket.bufferedAmount;
    const moved = buffered < this.#sampledBuffered ||
      (buffered === 0 && this.#sentBytes > this.#sampledSent);
    if (moved) this.#progressAt = now;
    if (buffered === 0) this.#unansweredSince = undefined;
    else if (moved || this.#unansweredSince === undefined) this.#unansweredSince = now;
    this.#sampledBuffered = buffered;
    this.#sampledSent = this.#sentBytes;
  }

  answered(): boolean {
    return false;
  }
}

/**
 * The signal for a connection: `app-ping` for protocol-aware clients,
 * `wire-ping` for plain ones on an engine with ping/pong, `buffered` for plain
 * ones on an engine without.
 */
export function readProgressFor(options: {
  level: ClientLevel;
  socket: ServerSocket;
  /** The connection's codec, for `ping {id}` frames. */
  codec: Codec;
  flow: FlowOptions;
  openedAt: number;
}): ReadProgress {
  const { socket, codec, flow, openedAt } = options;
  const window = new ReadWindow({ maxBytes: flow.maxInflightBytes, maxLagMs: flow.maxLagMs });
  if (options.level === "protocol") {
    const probe = codec.name === "json"
      ? (id: number) => socket.send(encodePing(id))
      : (id: number) => socket.send(codec.encode({ type: "ping", id }));
    return new PingLedger({ kind: "app-ping", probe, window, openedAt });
  }
  const ping = socket.ping?.bind(socket);
  if (ping === undefined) return new BufferedProgress(socket, flow.highWaterBytes);
  const probe = (offset: number) => ping(encodeWirePing(offset));
  return new PingLedger({ kind: "wire-ping", probe, window, openedAt });
}
