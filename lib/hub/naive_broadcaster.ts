import type { ServerSocket } from "../transport/socket.ts";

/** A receiver of naive broadcasts. */
export interface NaiveTarget {
  readonly socket: ServerSocket;
  /** Once true, the target is skipped and no longer waited for. */
  readonly closed: boolean;
}

/**
 * The broadcast loop of the systems Floodgate replaces, kept only so the demo
 * and the benchmarks can show the difference on one build (`--mode naive`):
 * every message goes to every subscriber in turn, and each send is awaited
 * until the socket has drained below `highWaterBytes`, as
 * `await ws.send(msg)` does. One slow socket therefore stalls everyone, and
 * publishes wait in line behind it. No queue, no batches, no gaps.
 */
export class NaiveBroadcaster {
  readonly #highWaterBytes: number;
  readonly #pollMs: number;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(options: { highWaterBytes: number; pollMs?: number }) {
    this.#highWaterBytes = options.highWaterBytes;
    this.#pollMs = options.pollMs ?? 5;
  }

  /** Broadcasts waiting behind the current one. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Sends `frame` (JSON text, as a string or UTF-8 bytes) to each target in turn after every
   * earlier broadcast finished.
   *
   * @returns resolves with the number of targets that took the frame.
   */
  broadcast(frame: string | Uint8Array, targets: readonly NaiveTarget[]): Promise<number> {
    this.#pending++;
    const done = this.#chain.then(async () => {
      this.#pending--;
      let sent = 0;
      for (const target of targets) {
        if (target.closed) continue;
        target.socket.send(frame, false);
        sent++;
        while (target.socket.bufferedAmount > this.#highWaterBytes && !target.closed) {
          await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
        }
      }
      return sent;
    });
    this.#chain = done.then(() => {});
    return done;
  }
}
