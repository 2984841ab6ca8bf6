import { ProtocolError } from "../protocol/protocol_error.ts";
import type { GapRange } from "../queue/gap_range.ts";
import type {
  Bus,
  BusHealth,
  BusHeld,
  Envelope,
  HistoryPage,
  PublishRequest,
  TopicSnapshot,
} from "./bus.ts";
import { HistoryBuffer, type HistoryLimits } from "./history_buffer.ts";
import { contiguousPage } from "./history_page.ts";
import { mergeForPublish } from "./merge_state.ts";

/** A key's merged value, and its approximate encoded size for the memory ledger. */
interface StateEntry {
  value: unknown;
  bytes: number;
}

/** One request of a batch, checked, encoded and merged: nothing can refuse it any more. */
interface Step {
  req: PublishRequest;
  json: Uint8Array | undefined;
  /** The key's new state; undefined when the request deletes it (or has no key). */
  entry: StateEntry | undefined;
}

interface TopicRecord {
  seq: number;
  state: Map<string, StateEntry> | undefined;
  history: HistoryBuffer;
}

/** Options of {@linkcode MemoryBus}. */
export interface MemoryBusOptions {
  /** @default a random 8-character id, new on every start */
  epoch?: string;
  /** Per-topic history retention. */
  history?: Partial<HistoryLimits>;
  /**
   * Most topics held; a publish (a whole batch) that would create more is
   * refused with `limit_reached`.
   * @default {100000}
   */
  maxTopics?: number;
  /**
   * Most keys in one topic's state; a publish (a whole batch) that would
   * create more is refused with `limit_reached`. Deletes in the same batch do
   * not make room for it (counted conservatively).
   * @default {100000}
   */
  maxKeysPerTopic?: number;
}

/** Default history retention per topic. */
export const DEFAULT_HISTORY: HistoryLimits = {
  maxMessages: 1000,
  maxBytes: 4 << 20,
  maxAgeMs: 600_000,
};

/**
 * The in-process bus, the embedded default: seqs, keyed state and history live
 * in this process and delivery is synchronous, inside `publish`. Keeps every
 * delivery rule of {@linkcode Bus} trivially: nothing crosses a network. Its
 * epoch is new on every start, since a restart loses the history.
 *
 * @example
 * ```ts
 * import { MemoryBus } from "./bus_memory.ts";
 * const bus = new MemoryBus();
 * bus.onMessage((env) => console.log(env.topic, env.seq));
 * bus.watch("sessions");
 * await bus.publish([{ topic: "sessions", key: "s1", data: 1, ts: Date.now() }]); // sessions 1
 * await bus.publish([{ topic: "sessions", key: "s2", op: "patch", data: { a: 1 }, ts: Date.now() }]);
 * (await bus.snapshot("sessions")).state; // { s1: 1, s2: { a: 1 } }
 * ```
 */
export class MemoryBus implements Bus {
  readonly name = "memory";
  readonly epoch: string;
  readonly #history: HistoryLimits;
  readonly #maxTopics: number;
  readonly #maxKeys: number;
  #topics = new Map<string, TopicRecord>();
  #stateBytes = 0;
  readonly #encoder = new TextEncoder();
  #watched = new Set<string>();
  #handler: (envelope: Envelope) => void = () => {};

  constructor(options: MemoryBusOptions = {}) {
    this.epoch = options.epoch ?? crypto.randomUUID().slice(0, 8);
    this.#history = { ...DEFAULT_HISTORY, ...options.history };
    this.#maxTopics = options.maxTopics ?? 100_000;
    this.#maxKeys = options.maxKeysPerTopic ?? 100_000;
  }

  /** Topics held. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /**
   * Takes the seqs and delivers, or refuses the whole batch before any seq is
   * taken: every request is checked against the limits (counting the topics
   * and keys the batch itself creates), encoded and merged first.
   *
   * @throws {ProtocolError} `limit_reached` when the batch would create topics
   * past `maxTopics` or keys past `maxKeysPerTopic`; `invalid_frame` when a
   * patch cannot be applied. Nothing of the batch is published then.
   */
  publish(requests: readonly PublishRequest[]): Promise<Envelope[]> {
    let steps: Step[];
    try {
      this.#checkLimits(requests);
      steps = this.#plan(requests);
    } catch (err) {
      return Promise.reject(err);
    }
    const out: Envelope[] = [];
    for (const { req, json, entry } of steps) {
      const record = this.#record(req.topic);
      const seq = ++record.seq;
      const env: Envelope = json === undefined ? { ...req, seq } : { ...req, seq, json };
      if (req.key !== undefined) {
        const state = record.state ??= new Map();
        const old = state.get(req.key);
        if (old !== undefined) this.#stateBytes -= old.bytes;
        if (entry === undefined) state.delete(req.key);
        else {
          state.set(req.key, entry);
          this.#stateBytes += entry.bytes;
        }
      }
      record.history.push(env);
      out.push(env);
      if (this.#watched.has(req.topic)) this.#handler(env);
    }
    return Promise.resolve(out);
  }

  /** Encodes each request and merges its patch, following earlier requests of the batch. */
  #plan(requests: readonly PublishRequest[]): Step[] {
    const batch = new Map<string, Map<string, StateEntry | undefined>>();
    return requests.map((req) => {
      const text: string | undefined = JSON.stringify(req.data);
      const json = text === undefined ? undefined : this.#encoder.encode(text);
      if (req.key === undefined) return { req, json, entry: undefined };
      let keys = batch.get(req.topic);
      if (keys === undefined) batch.set(req.topic, keys = new Map());
      let entry: StateEntry | undefined;
      if (req.op !== "delete") {
        const bytes = json?.length ?? 4;
        if (req.op === "patch") {
          const old = keys.has(req.key)
            ? keys.get(req.key)
            : this.#topics.get(req.topic)?.state?.get(req.key);
          // A patch's merged size is not measured (that would re-encode the value): old + patch.
          entry = { value: mergeForPublish(req, old?.value), bytes: (old?.bytes ?? 0) + bytes };
        } else entry = { value: req.data, bytes };
      }
      keys.set(req.key, entry);
      return { req, json, entry };
    });
  }

  onMessage(handler: (envelope: Envelope) => void): void {
    this.#handler = handler;
  }

  onGap(_handler: (gap: GapRange) => void): void {
    // Nothing crosses a network here, so nothing is ever lost in transit.
  }

  onEpochChange(_handler: (epoch: string) => void): void {
    // The history lives as long as this process: the epoch never changes while running.
  }

  watch(topic: string): Promise<void> {
    this.#watched.add(topic);
    return Promise.resolve();
  }

  unwatch(topic: string): void {
    this.#watched.delete(topic);
  }

  snapshot(topic: string): Promise<TopicSnapshot> {
    const record = this.#topics.get(topic);
    return Promise.resolve({
      seq: record?.seq ?? 0,
      state: record?.state
        ? Object.fromEntries([...record.state].map(([k, e]) => [k, e.value]))
        : undefined,
    });
  }

  history(topic: string, afterSeq: number, limit: number): Promise<HistoryPage> {
    const record = this.#topics.get(topic);
    if (!record) return Promise.resolve({ envelopes: [], firstSeq: 0, lastSeq: 0 });
    record.history.trim(Date.now());
    return Promise.resolve(contiguousPage(afterSeq, {
      envelopes: record.history.after(afterSeq, limit),
      firstSeq: record.history.firstSeq,
      lastSeq: record.seq,
    }));
  }

  health(): BusHealth {
    return { ok: true };
  }

  counters(): Record<string, number> {
    return { topics: this.#topics.size };
  }

  held(now: number): BusHeld {
    let history = 0;
    for (const record of this.#topics.values()) {
      record.history.trim(now);
      history += record.history.bytes;
    }
    return { history, state: this.#stateBytes };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #record(topic: string): TopicRecord {
    let record = this.#topics.get(topic);
    if (!record) {
      record = { seq: 0, state: undefined, history: new HistoryBuffer(this.#history) };
      this.#topics.set(topic, record);
    }
    return record;
  }

  /** Counts the topics and keys the batch creates, its own earlier requests included. */
  #checkLimits(requests: readonly PublishRequest[]): void {
    const newTopics = new Set<string>();
    const newKeys = new Map<string, Set<string>>();
    for (const req of requests) {
      const record = this.#topics.get(req.topic);
      if (!record) newTopics.add(req.topic);
      if (req.key === undefined || req.op === "delete" || record?.state?.has(req.key)) continue;
      let added = newKeys.get(req.topic);
      if (added === undefined) newKeys.set(req.topic, added = new Set());
      added.add(req.key);
      const held = record?.state?.size ?? 0;
      if (held + added.size > this.#maxKeys) {
        throw new ProtocolError(
          "limit_reached",
          `Nothing was published: it would take topic "${req.topic}" past ${this.#maxKeys} keys (--max-keys-per-topic): it holds ${held} and the publish adds at least ${added.size}; reuse or delete keys`,
        );
      }
    }
    if (this.#topics.size + newTopics.size > this.#maxTopics) {
      throw new ProtocolError(
        "limit_reached",
        `Nothing was published: the server holds ${this.#topics.size} topics and this publish creates ${newTopics.size}; the limit is ${this.#maxTopics} (--max-topics); publish to an existing topic`,
      );
    }
  }
}
