/**
 * The keyed state of topics as `snapshot` frames, encoded once per topic and
 * seq and shared: by every subscriber that starts from it and by every
 * `GET /topics/:topic/state` reader. A 10 MB state that 100 clients subscribe
 * to, or one client subscribes to 100 times, is serialised once and held once,
 * as bytes off the V8 heap. Bounded in bytes; least recently used first out.
 *
 * @module
 */
import type { TopicSnapshot } from "../bus/bus.ts";
import { withJsonField } from "../protocol/encode.ts";

/** A topic's `snapshot` frame as UTF-8 JSON, and where its state sits in it. */
export interface SnapshotBytes {
  readonly topic: string;
  readonly seq: number;
  /** `{"type":"snapshot","topic":…,"seq":…,"state":{…}}` */
  readonly frame: Uint8Array;
  /** Offset of the state's JSON in `frame`; it runs to one byte before the end. */
  readonly stateStart: number;
}

const utf8 = new TextEncoder();

/** Encodes the `snapshot` frame of `state` (same text as `encodeSnapshot`). */
export function snapshotBytes(
  topic: string,
  seq: number,
  state: Record<string, unknown>,
): SnapshotBytes {
  const body = utf8.encode(JSON.stringify(state));
  const frame = withJsonField({ type: "snapshot", topic, seq }, "state", body);
  return { topic, seq, frame, stateStart: frame.length - body.length - 1 };
}

/**
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SnapshotCache } from "./snapshot_cache.ts";
 * const cache = new SnapshotCache({ maxBytes: 1 << 20 });
 * const a = cache.of("t", { seq: 3, state: { k: 1 } });
 * assert.equal(new TextDecoder().decode(a?.frame), '{"type":"snapshot","topic":"t","seq":3,"state":{"k":1}}');
 * assert.equal(cache.of("t", { seq: 3, state: { k: 1 } }), a); // shared, not encoded again
 * assert.notEqual(cache.of("t", { seq: 4, state: { k: 2 } }), a); // a new seq, a new frame
 * ```
 */
export class SnapshotCache {
  readonly #maxBytes: number;
  /** By topic, least recently used first. */
  readonly #entries = new Map<string, SnapshotBytes>();
  #held = 0;

  /** @param options.maxBytes most bytes cached; a larger snapshot is encoded but not kept. */
  constructor(options: { maxBytes: number }) {
    this.#maxBytes = options.maxBytes;
  }

  /** Bytes of frames cached. */
  get heldBytes(): number {
    return this.#held;
  }

  /**
   * The snapshot frame of `snap`, from the cache when it holds the same topic
   * and seq (state follows seq: a topic's state at one seq is one value);
   * undefined when the topic has no keyed state.
   */
  of(topic: string, snap: TopicSnapshot): SnapshotBytes | undefined {
    if (snap.state === undefined) return undefined;
    const cached = this.#entries.get(topic);
    if (cached !== undefined && cached.seq === snap.seq) {
      this.#entries.delete(topic);
      this.#entries.set(topic, cached);
      return cached;
    }
    const made = snapshotBytes(topic, snap.seq, snap.state);
    if (cached !== undefined) this.#drop(topic, cached);
    if (made.frame.length <= this.#maxBytes) {
      this.#entries.set(topic, made);
      this.#held += made.frame.length;
      for (const [t, e] of this.#entries) {
        if (this.#held <= this.#maxBytes) break;
        this.#drop(t, e);
      }
    }
    return made;
  }

  /** Forgets every frame (the epoch changed: seqs start again). */
  clear(): void {
    this.#entries.clear();
    this.#held = 0;
  }

  #drop(topic: string, entry: SnapshotBytes): void {
    this.#entries.delete(topic);
    this.#held -= entry.frame.length;
  }
}
