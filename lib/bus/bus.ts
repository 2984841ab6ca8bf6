/**
 * The cluster bus: where publishes get their seqs, where keyed state lives, and
 * how a publish on one instance reaches the subscribers on every instance.
 *
 * ## Delivery rules
 * Every implementation guarantees:
 * 1. **One seq order per topic.** `publish` gives each message the next seq of
 *    its topic (1, 2, 3, …, per epoch), once, cluster-wide. A batch is
 *    published whole or refused whole, and refused before any of its seqs is
 *    taken: limits (`maxTopics`, `maxKeysPerTopic`, counting what the batch
 *    itself creates) are checked and patches merged first, so a seq taken is
 *    a seq delivered.
 * 2. **In order, once.** The handler set with `onMessage` receives every message
 *    of every watched topic exactly once, in seq order per topic.
 * 3. **No silent loss.** When the bus cannot deliver some seqs of a watched topic
 *    (for instance during an outage), it reports them to the `onGap` handler
 *    before delivering any later seq of that topic.
 * 4. **State follows seq.** `snapshot(topic)` returns the keyed state together
 *    with the seq it reflects: every message with a higher seq comes after it.
 * 5. **Epoch.** `epoch` names one history; it changes when seqs restart (the
 *    history was lost). Seqs of different epochs are not comparable.
 * 6. **History.** `history(topic, afterSeq)` returns retained messages after
 *    `afterSeq`, oldest first, exactly as they were delivered; `firstSeq` tells
 *    where retention begins, so a caller knows whether the history still reaches
 *    back far enough. Retention is bounded by count, bytes and age.
 * 7. **Merged state.** A keyed request sets its key's state to `data`; with
 *    `op: "patch"` it applies `data` as a JSON Merge Patch (RFC 7396,
 *    `applyMergePatch`) to the key's state (an absent key counts as `{}`);
 *    with `op: "delete"` it removes the key. The envelope delivered (and kept
 *    in history) carries the request as published (the patch, not the merged
 *    value); `snapshot` always holds the merged values.
 *
 * Implementations: `bus_memory.ts` (one process, the default) and
 * `bus_redis.ts` (many instances sharing one Redis).
 *
 * @module
 */
import type { MessageOp } from "../protocol/frames.ts";
import type { GapRange } from "../queue/gap_range.ts";

/** A message to publish, as the hub hands it to the bus. */
export interface PublishRequest {
  topic: string;
  /** The value; with `op: "patch"` the merge patch; with `op: "delete"` null. */
  data: unknown;
  key?: string;
  /** How a keyed request changes its key's state (rule 7); absent: `data` replaces it. */
  op?: MessageOp;
  /** Publish time in epoch ms, set by the instance that accepted the publish. */
  ts: number;
}

/** A published message with its seq. */
export interface Envelope extends PublishRequest {
  seq: number;
  /**
   * `data` as UTF-8 JSON, when the bus has already encoded it (the memory bus
   * does, for its history), so that receivers need not encode it again.
   * Absent when the bus did not make it; never set when `data` is undefined.
   */
  json?: Uint8Array;
}

/** The keyed state of a topic and the seq it reflects. */
export interface TopicSnapshot {
  /** The last seq published to the topic (0 when none). */
  seq: number;
  /** Merged value per key (rule 7), or undefined when the topic has never had a keyed publish. */
  state: Record<string, unknown> | undefined;
}

/** A run of retained messages of one topic (rule 6). */
export interface HistoryPage {
  /**
   * Messages with seq > the requested `afterSeq`, in seq order, at most
   * `limit`, without holes: should a seq ever be missing from the history,
   * the page ends before it.
   */
  envelopes: Envelope[];
  /**
   * The oldest seq still retained; 0 when nothing is. Seqs below it are gone.
   * Should seqs right after `afterSeq` be missing (a hole, not trimmed), it is
   * the first seq after them (`lastSeq + 1` when none follows), so readers
   * report them as a gap like trimmed ones.
   */
  firstSeq: number;
  /** The topic's last seq when the page was read. */
  lastSeq: number;
}

/**
 * The bus cannot be reached (e.g. Redis is down): nothing was published.
 * Answered with HTTP 503 and `error {code: "unavailable"}`; retry later.
 */
export class BusUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BusUnavailableError";
  }
}

/** Health of the bus, for `/healthz`. */
export interface BusHealth {
  ok: boolean;
  detail?: string;
}

/** What a bus holds in this process, in bytes of encoded data. */
export interface BusHeld {
  history: number;
  state: number;
}

/** See the module docs for the delivery rules every implementation keeps. */
export interface Bus {
  /** Name of the implementation, for logs and `/healthz`. */
  readonly name: string;
  /** The current epoch (see rule 5). */
  readonly epoch: string;
  /**
   * Sets the handler called when the epoch changes while running (the shared
   * history was lost, e.g. Redis restarted empty): seqs start again.
   */
  onEpochChange(handler: (epoch: string) => void): void;
  /**
   * Gives each request its seq and delivers it; resolves with the envelopes in
   * order. Refuses the whole batch, before any seq is taken, when one request
   * cannot be published.
   *
   * @throws {ProtocolError} `limit_reached` (past `--max-topics` or
   * `--max-keys-per-topic`), `invalid_frame` (a patch that cannot be applied).
   * @throws {BusUnavailableError} when the bus cannot be reached or does not answer in time.
   */
  publish(requests: readonly PublishRequest[]): Promise<Envelope[]>;
  /** Sets the handler of delivered messages (rule 2). */
  onMessage(handler: (envelope: Envelope) => void): void;
  /** Sets the handler of undeliverable seqs (rule 3). */
  onGap(handler: (gap: GapRange) => void): void;
  /**
   * Starts delivering `topic` to this instance. Resolves once delivery is
   * active: every message published after that is delivered (rule 2).
   */
  watch(topic: string): Promise<void>;
  /** Stops delivering `topic` to this instance. */
  unwatch(topic: string): void;
  /** The keyed state of `topic` (rule 4). */
  snapshot(topic: string): Promise<TopicSnapshot>;
  /** Retained messages of `topic` after `afterSeq`, at most `limit` (rule 6). */
  history(topic: string, afterSeq: number, limit: number): Promise<HistoryPage>;
  /** Whether the bus is working. */
  health(): BusHealth;
  /** Event counts since start (reconnects, recovered seqs, gapped seqs…), for `/metrics`. */
  counters(): Record<string, number>;
  /**
   * Trims what the history limits no longer allow as of `now` (age included,
   * for topics nobody publishes to), then reports the bytes of history and
   * keyed state held in this process, for the memory ledger. A bus that keeps
   * them elsewhere (Redis) reports what it caches here.
   */
  held(now: number): BusHeld;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
