/**
 * Turns a lossy, possibly out-of-sync stream of published messages (Redis
 * pub/sub across reconnects) into the bus's promise: every seq of a topic
 * exactly once and in order, each one either delivered or reported as a gap.
 * When a seq is skipped, the missing ones are fetched from the history; what
 * the history no longer holds becomes a gap.
 *
 * @module
 */
import type { GapRange } from "../queue/gap_range.ts";
import type { Envelope } from "./bus.ts";

/** What the feed needs from its bus. */
export interface FeedSource {
  /** Messages with seq in `fromSeq..toSeq` from the history, and its oldest retained seq. */
  fetch(
    topic: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<{ envelopes: Envelope[]; firstSeq: number }>;
  deliver(env: Envelope): void;
  gap(gap: GapRange): void;
  /** A fetch failed; it will be retried. */
  onFetchError?(err: unknown): void;
}

/** Most messages buffered while catching up; older ones are fetched again from the history. */
const MAX_BUFFER = 10_000;

/**
 * One topic's feed. Starts buffering; {@linkcode TopicFeed.start} sets the seq
 * it starts after.
 *
 * @example
 * ```ts ignore
 * const feed = new TopicFeed("t", source);
 * feed.start(10);      // seqs up to 10 are history
 * feed.receive(env11); // delivered
 * feed.receive(env14); // 12 and 13 are fetched (or gapped), then 14 delivered
 * ```
 */
export class TopicFeed {
  readonly topic: string;
  readonly #source: FeedSource;
  #lastSeq: number | undefined;
  #buffer: Envelope[] = [];
  #recovering = false;
  #retryMs = 100;
  #stopped = false;

  constructor(topic: string, source: FeedSource) {
    this.topic = topic;
    this.#source = source;
  }

  /** The last seq delivered or gapped, once started. */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** Starts after `lastSeq`: older messages are in the history, not live. */
  start(lastSeq: number): void {
    this.#lastSeq = lastSeq;
    this.#drain();
  }

  /** Stops: nothing more is delivered. */
  stop(): void {
    this.#stopped = true;
    this.#buffer = [];
  }

  /** A message from the live stream. */
  receive(env: Envelope): void {
    if (this.#stopped) return;
    if (this.#lastSeq === undefined || this.#recovering) {
      this.#hold(env);
      return;
    }
    if (env.seq <= this.#lastSeq) return; // already delivered (or recovered)
    if (env.seq === this.#lastSeq + 1) {
      this.#lastSeq = env.seq;
      this.#source.deliver(env);
      return;
    }
    this.#hold(env);
    this.#recover(env.seq - 1);
  }

  /** The topic's seq is known to be `seq` (e.g. read after a reconnect): fetch what was missed. */
  catchUp(seq: number): void {
    if (this.#stopped || this.#lastSeq === undefined || this.#recovering) return;
    if (seq > this.#lastSeq) this.#recover(seq);
  }

  #hold(env: Envelope): void {
    this.#buffer.push(env);
    if (this.#buffer.length > MAX_BUFFER) this.#buffer.shift(); // refetched from history later
  }

  #recover(toSeq: number): void {
    this.#recovering = true;
    const from = (this.#lastSeq as number) + 1;
    this.#source.fetch(this.topic, from, toSeq).then(({ envelopes, firstSeq }) => {
      if (this.#stopped) return;
      let last = from - 1;
      const missingUpTo = Math.min(toSeq, Math.max(firstSeq, from) - 1);
      if (firstSeq === 0 || missingUpTo >= from) {
        const to = firstSeq === 0 ? toSeq : missingUpTo;
        this.#source.gap({ topic: this.topic, fromSeq: from, toSeq: to, reason: "bus_outage" });
        last = to;
      }
      for (const env of envelopes) {
        if (env.seq <= last || env.seq > toSeq) continue;
        if (env.seq > last + 1) {
          this.#source.gap({
            topic: this.topic,
            fromSeq: last + 1,
            toSeq: env.seq - 1,
            reason: "bus_outage",
          });
        }
        this.#source.deliver(env);
        last = env.seq;
      }
      if (last < toSeq) {
        this.#source.gap({ topic: this.topic, fromSeq: last + 1, toSeq, reason: "bus_outage" });
      }
      this.#lastSeq = toSeq;
      this.#recovering = false;
      this.#retryMs = 100;
      this.#drain();
    }, (err) => {
      if (this.#stopped) return;
      this.#source.onFetchError?.(err);
      setTimeout(() => {
        this.#recovering = false;
        if (!this.#stopped) this.#recover(Math.max(toSeq, this.#bufferedMax()));
      }, this.#retryMs);
      this.#retryMs = Math.min(5000, this.#retryMs * 2);
    });
  }

  #bufferedMax(): number {
    let max = 0;
    for (const env of this.#buffer) if (env.seq > max) max = env.seq;
    return max;
  }

  /** Hands buffered messages over in order, recovering again at the first hole. */
  #drain(): void {
    const buffered = this.#buffer.sort((a, b) => a.seq - b.seq);
    this.#buffer = [];
    for (let i = 0; i < buffered.length; i++) {
      this.receive(buffered[i]);
      if (this.#recovering) {
        // A hole: keep the rest for after the recovery.
        for (let j = i + 1; j < buffered.length; j++) this.#hold(buffered[j]);
        return;
      }
    }
  }
}
