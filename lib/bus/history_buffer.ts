import type { Envelope } from "./bus.ts";

/** Retention limits of a topic's history. */
export interface HistoryLimits {
  /**
   * Most messages kept per topic.
   * @default {1000}
   */
  maxMessages: number;
  /**
   * Most bytes (of encoded data) kept per topic.
   * @default {4194304}
   */
  maxBytes: number;
  /**
   * Messages older than this many ms are dropped.
   * @default {600000}
   */
  maxAgeMs: number;
}

interface Entry {
  /** The envelope without its data. */
  env: Omit<Envelope, "data">;
  /** Its data as UTF-8 JSON, off the V8 heap; undefined when it has none. */
  json: Uint8Array | undefined;
  bytes: number;
}

/**
 * One topic's retained messages, bounded by count, bytes and age. Seqs are
 * contiguous from `firstSeq` to the last pushed one.
 *
 * Each message's data is kept as its UTF-8 JSON bytes rather than as the
 * parsed value: bytes live outside the V8 heap, so messages that stay a while
 * and then go (the history's whole life) do not fill V8's old generation,
 * which V8 lets grow to several times what is live before collecting it.
 * Reading the history back parses them again (replays are rare).
 *
 * @example
 * ```ts
 * import { HistoryBuffer } from "./history_buffer.ts";
 * const h = new HistoryBuffer({ maxMessages: 2, maxBytes: 1e6, maxAgeMs: 1e9 });
 * for (const seq of [1, 2, 3]) h.push({ topic: "t", seq, ts: Date.now(), data: seq });
 * h.firstSeq; // 2
 * h.after(1, 10).map((e) => e.seq); // [2, 3]
 * ```
 */
export class HistoryBuffer {
  readonly #limits: HistoryLimits;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  /** Trimmed positions (before `#head`) are emptied at once, so they hold no message. */
  #entries: (Entry | undefined)[] = [];
  #head = 0;
  #bytes = 0;

  constructor(limits: HistoryLimits) {
    this.#limits = limits;
  }

  /** The oldest retained seq, or 0 when empty. */
  get firstSeq(): number {
    return this.#head < this.#entries.length ? (this.#entries[this.#head] as Entry).env.seq : 0;
  }

  /** Messages retained. */
  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** Bytes retained. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends the next message (its seq must follow the last one) and trims.
   * Its data is kept as `env.json` when present (encoded here otherwise); the
   * JSON's size is what the byte limit counts.
   */
  push(env: Envelope): void {
    const { data, json: given, ...rest } = env;
    const text = given === undefined ? JSON.stringify(data) : undefined;
    const json = given ?? (text === undefined ? undefined : this.#encoder.encode(text));
    const bytes = json === undefined ? 4 : json.length;
    this.#entries.push({ env: rest, json, bytes });
    this.#bytes += bytes;
    this.trim(env.ts);
  }

  /** Drops what exceeds the limits as of `now` (epoch ms). */
  trim(now: number): void {
    const { maxMessages, maxBytes, maxAgeMs } = this.#limits;
    while (this.length > 0) {
      const oldest = this.#entries[this.#head] as Entry;
      if (
        this.length <= maxMessages && this.#bytes <= maxBytes && now - oldest.env.ts <= maxAgeMs
      ) break;
      this.#bytes -= oldest.bytes;
      this.#entries[this.#head++] = undefined;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Retained messages with seq > `afterSeq`, oldest first, at most `limit`.
   * Should seqs ever be missing in between (pushes are meant to be
   * contiguous), it still starts at the first seq > `afterSeq`.
   */
  after(afterSeq: number, limit: number): Envelope[] {
    const first = this.firstSeq;
    if (first === 0) return [];
    let start = this.#head + Math.max(0, afterSeq + 1 - first);
    if (this.#entries[start]?.env.seq !== Math.max(afterSeq + 1, first)) {
      start = this.#firstIndexAfter(afterSeq);
    }
    const end = Math.min(this.#entries.length, start + limit);
    const out: Envelope[] = [];
    for (let i = start; i < end; i++) {
      const { env, json } = this.#entries[i] as Entry;
      const data = json === undefined ? undefined : JSON.parse(this.#decoder.decode(json));
      out.push(json === undefined ? { ...env, data } : { ...env, data, json });
    }
    return out;
  }

  /** Index of the first retained message with seq > `afterSeq` (binary search). */
  #firstIndexAfter(afterSeq: number): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#entries[mid] as Entry).env.seq > afterSeq) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
