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
 * const shared = new TextEncoder().encode('{"k":1}}');
 * const res = reads.respond([new TextEncoder().encode('{"state":'), shared]);
 * assert.ok(res);
 * assert.ok(reads.respond([shared])); // the same bytes are held, and counted, once
 * assert.equal(reads.heldBytes, 9 + 8);
 * assert.equal(await res.text(), '{"state":{"k":1}}');
 * assert.equal(reads.respond([new Uint8Array(2000)]), undefined);
 * ```
 */
export class StateReads {
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  /** Responses holding each buffer, which is counted once however many hold it. */
  readonly #holders = new Map<ArrayBufferLike, { bytes: number; responses: number }>();
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
   * A JSON response streaming `parts` one after the other (shared bytes, such
   * as a cached snapshot, are not copied), or undefined when the bytes not
   * already held do not fit in what is left of the limit.
   */
  respond(parts: readonly Uint8Array[]): Response | undefined {
    let added = 0;
    let length = 0;
    for (const p of parts) {
      length += p.length;
      if (!this.#holders.has(p.buffer)) added += p.buffer.byteLength;
    }
    if (this.#held + added > this.#maxBytes) return undefined;
    for (const p of parts) {
      const h = this.#holders.get(p.buffer);
      if (h) h.responses++;
      else {
        this.#holders.set(p.buffer, { bytes: p.buffer.byteLength, responses: 1 });
        this.#held += p.buffer.byteLength;
      }
    }
    let part = 0;
    let offset = 0;
    let released = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      for (const p of parts) {
        const h = this.#holders.get(p.buffer);
        if (h && --h.responses === 0) {
          this.#holders.delete(p.buffer);
          this.#held -= h.bytes;
        }
      }
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
        while (part < parts.length && offset >= parts[part].length) {
          part++;
          offset = 0;
        }
        if (part >= parts.length) {
          release();
          controller.close();
          return;
        }
        const p = parts[part];
        const end = Math.min(p.length, offset + PIECE);
        controller.enqueue(p.subarray(offset, end));
        offset = end;
      },
      cancel: release,
    });
    return new Response(stream, {
      headers: {
        "content-type": "application/json",
        "content-length": String(length),
      },
    });
  }
}
