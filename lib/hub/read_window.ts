/**
 * How many sent bytes one client may have unconfirmed: about what it reads in
 * half of `maxLagMs`, measured from its pings and pongs.
 *
 * A byte limit alone bounds memory, not time: 1 MiB in flight is 2 ms for a
 * client on loopback and 200 s for a phone reading 5 KB/s, and bytes in flight
 * can no longer be coalesced, dropped or reported. Sizing the window to the
 * reader keeps its backlog in the send queue, where the ladder can act on it.
 *
 * Each `ping` carries the bytes sent before it; its `pong` says the client read
 * them. A ping sent behind `ahead` unconfirmed bytes and answered `lag` ms later
 * measures a read rate of `ahead / lag` when the client was behind (the lag was
 * long), and only a lower bound when it kept up (the lag was a round trip). A
 * ping still unanswered after `age` ms bounds the rate from above by
 * `ahead / age`, so a reader that slows down is noticed before it answers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadWindow } from "./read_window.ts";
 *
 * const w = new ReadWindow({ maxBytes: 1 << 20, maxLagMs: 3000 });
 * w.waiting(40_000, 4000); // 40 KB not read within 4 s: at most 10 KB/s
 * assert.equal(w.bytes, 15_000); // 10 KB/s × 1.5 s
 * w.answered(8_000, 2); // then it read 8 KB in 2 ms: it keeps up again
 * assert.equal(w.bytes, 1 << 20);
 * ```
 */
export class ReadWindow {
  /** The smallest window: what a very slow reader is given at a time. */
  static readonly MIN_BYTES = 4 << 10;
  /**
   * The window before anything is measured: small, so a slow reader is found
   * out before much is in flight; a client that answers within a round trip
   * has the whole window after its first `pong`.
   */
  static readonly INITIAL_BYTES = 16 << 10;

  readonly #maxBytes: number;
  readonly #minBytes: number;
  readonly #maxLagMs: number;
  #bytes: number;

  /**
   * @param options.maxBytes the largest window (`--max-inflight-bytes`).
   * @param options.maxLagMs the lag the window aims at twice over (`--max-lag`).
   * @param options.initialBytes the window before anything is measured.
   * @default initialBytes {@linkcode ReadWindow.INITIAL_BYTES}
   */
  constructor(options: { maxBytes: number; maxLagMs: number; initialBytes?: number }) {
    const { maxBytes, maxLagMs } = options;
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be > 0, got ${maxBytes}`);
    if (!(maxLagMs > 0)) throw new RangeError(`maxLagMs must be > 0, got ${maxLagMs}`);
    this.#maxBytes = maxBytes;
    this.#minBytes = Math.min(maxBytes, ReadWindow.MIN_BYTES);
    this.#maxLagMs = maxLagMs;
    this.#bytes = this.#clamp(options.initialBytes ?? ReadWindow.INITIAL_BYTES);
  }

  /** Unconfirmed bytes allowed now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * A `pong` answered a ping sent `lagMs` ago behind `ahead` unconfirmed bytes.
   * A client that answered within a quarter of `maxLagMs` keeps up: the window
   * only grows. One that took longer was reading a backlog: the window becomes
   * what it reads in half of `maxLagMs`.
   */
  answered(ahead: number, lagMs: number): void {
    if (!(ahead > 0)) return;
    const target = this.#clamp((ahead / Math.max(1, lagMs)) * (this.#maxLagMs / 2));
    this.#bytes = lagMs <= this.#maxLagMs / 4 ? Math.max(this.#bytes, target) : target;
  }

  /**
   * The oldest unanswered ping, sent behind `ahead` unconfirmed bytes, is
   * `ageMs` old. Past a quarter of `maxLagMs` the client reads less than
   * `ahead / ageMs`: the window shrinks to at most that for half of `maxLagMs`.
   */
  waiting(ahead: number, ageMs: number): void {
    if (!(ahead > 0) || ageMs <= this.#maxLagMs / 4) return;
    this.#bytes = Math.min(this.#bytes, this.#clamp((ahead / ageMs) * (this.#maxLagMs / 2)));
  }

  #clamp(bytes: number): number {
    return Math.min(this.#maxBytes, Math.max(this.#minBytes, Math.round(bytes)));
  }
}
