/**
 * `GET /topics/:topic/state` responses in flight, bounded in bytes. A state
 * can be large (100k keys × 1 KB is 100 MB of JSON) and a reader may never
 * read its response: each body is held, and charged, from the moment it is
 * built until the reader has taken it all, gave up, or `timeoutMs` passed.
 * A body that does not fit in what is left is refused (503 `overloaded`).
 *
 * @module
 */

/** Options of {@linkcode StateReads}. */
export interface StateReadsOptions {
  /** Most bytes of state responses held at once. */
  maxBytes: number;
  /** A response not fully read by then is cut off. @default {30000} */
  timeoutMs?: number;
}

const PIECE = 64 << 10;

/**
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StateReads } from "./state_reads.ts";
 *
 * const reads = new StateReads({ maxBytes: 1000 });
 * const res = reads.respond('{"state":{}}');
 * assert.ok(res);
 * assert.equal(reads.heldBytes, 12);
 * await res.text();
 * assert.equal(reads.heldBytes, 0);
 * assert.equal(reads.respond("x".repeat(2000)), undefined);
 * ```
 */
export class StateReads {
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  #held = 0;

  constructor(options: StateReadsOptions) {
    this.#maxBytes = options.maxBytes;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Bytes of responses built and not yet taken by their readers. */
  get heldBytes(): number {
    return this.#held;
  }

  /**
   * A JSON response streaming `body`, or undefined when it does not fit in
   * what is left of the limit.
   */
  respond(body: string): Response | undefined {
    const bytes = new TextEncoder().encode(body);
    if (this.#held + bytes.length > this.#maxBytes) return undefined;
    this.#held += bytes.length;
    let offset = 0;
    let released = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.#held -= bytes.length;
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        timer = setTimeout(() => {
          release();
          controller.error(new Error("state response not read in time"));
        }, this.#timeoutMs);
      },
      pull: (controller) => {
        if (released) return;
        const end = Math.min(bytes.length, offset + PIECE);
        controller.enqueue(bytes.subarray(offset, end));
        offset = end;
        if (offset >= bytes.length) {
          release();
          controller.close();
        }
      },
      cancel: release,
    });
    return new Response(stream, {
      headers: {
        "content-type": "application/json",
        "content-length": String(bytes.length),
      },
    });
  }
}
