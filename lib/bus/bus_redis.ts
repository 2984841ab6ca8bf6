/**
 * The Redis bus: for several Floodgate instances behind a load balancer (or on
 * Deno Deploy). Keeps every delivery rule of {@linkcode Bus}:
 *
 * - seqs come from one `INCR` per topic, inside a Lua script that also updates
 *   the keyed state (a hash), appends to the history (a stream whose ids are the
 *   seqs) and publishes on the topic's channel, so all four agree;
 * - each instance subscribes to the channels of the topics its clients watch;
 *   a {@linkcode TopicFeed} per topic turns pub/sub (which loses messages while
 *   a connection is down) into "every seq once, in order": skipped seqs are read
 *   back from the stream, and what the stream no longer holds becomes a
 *   `bus_outage` gap;
 * - the epoch lives in Redis; when Redis comes back without it (or with seqs
 *   lower than already delivered: its data was lost), a new epoch begins.
 *
 * A batch is published by one script (`redis_publish.ts`): entirely or not at
 * all, limits counted for the whole batch, patches merged before any seq is
 * taken.
 *
 * Faults (`redis_connection.ts`): at startup, Redis is retried for
 * `connectTimeoutMs`, then {@linkcode RedisBus.connect} fails and the server
 * exits; while Redis is unreachable, publishes fail fast with
 * {@linkcode BusUnavailableError} and connected clients keep being served
 * (reconnection uses exponential backoff); while it is hung, commands fail
 * after `commandTimeoutMs`, at most `maxPendingPublishes` wait on it, and
 * `health()` reports not ok until it answers again.
 *
 * @module
 */
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
import { DEFAULT_HISTORY } from "./bus_memory.ts";
import type { HistoryLimits } from "./history_buffer.ts";
import { contiguousPage } from "./history_page.ts";
import { RedisConnection, type RedisConnectionOptions } from "./redis_connection.ts";
import { RedisPublisher } from "./redis_publish.ts";
import { HISTORY_SCRIPT, SNAPSHOT_SCRIPT, topicChannel, topicKeys } from "./redis_scripts.ts";
import { TopicFeed } from "./topic_feed.ts";

/**
 * Options of {@linkcode RedisBus.connect}: those of the connection
 * (`url`, `logger`, `connectTimeoutMs` 10000, `commandTimeoutMs` 2000,
 * `maxReconnectDelayMs` 5000) and these.
 */
export interface RedisBusOptions extends RedisConnectionOptions {
  /** Prefix of every key and channel. @default {"floodgate"} */
  prefix?: string;
  /** History retention per topic; the byte limit does not apply to Redis. */
  history?: Partial<HistoryLimits>;
  /**
   * Most topics; a publish (a whole batch) that would create more is refused
   * with `limit_reached`.
   * @default {100000}
   */
  maxTopics?: number;
  /**
   * Most keys per topic; a publish (a whole batch) that would create more is
   * refused with `limit_reached` (deletes in the batch do not make room).
   * @default {100000}
   */
  maxKeysPerTopic?: number;
  /**
   * Most publishes waiting on Redis at once; more are refused at once with
   * {@linkcode BusUnavailableError}, so a hung Redis cannot fill memory.
   * @default {1000}
   */
  maxPendingPublishes?: number;
}

/** Counters of the Redis bus, for `/metrics`. */
export interface RedisBusStats {
  recovered: number;
  gapped: number;
  epochChanges: number;
}

type Entry = [string, string[]];

/** See the module docs. */
export class RedisBus implements Bus {
  readonly name = "redis";
  readonly stats: RedisBusStats = { recovered: 0, gapped: 0, epochChanges: 0 };
  readonly #conn: RedisConnection;
  readonly #publisher: RedisPublisher;
  readonly #log: RedisBusOptions["logger"];
  readonly #prefix: string;
  readonly #history: HistoryLimits;
  readonly #feeds = new Map<string, TopicFeed>();
  /** Topics whose channel is subscribed. */
  readonly #subscribed = new Set<string>();
  #epoch = "";
  #onMessage: (env: Envelope) => void = () => {};
  #onGap: (gap: GapRange) => void = () => {};
  #onEpochChange: (epoch: string) => void = () => {};
  #resyncing: Promise<void> | undefined;
  #closed = false;

  private constructor(conn: RedisConnection, options: RedisBusOptions) {
    this.#conn = conn;
    this.#log = options.logger;
    this.#prefix = options.prefix ?? "floodgate";
    this.#history = { ...DEFAULT_HISTORY, ...options.history };
    this.#publisher = new RedisPublisher(conn, {
      prefix: this.#prefix,
      logger: options.logger,
      history: this.#history,
      maxTopics: options.maxTopics ?? 100_000,
      maxKeysPerTopic: options.maxKeysPerTopic ?? 100_000,
      maxPendingPublishes: options.maxPendingPublishes,
    });
  }

  /**
   * Connects (two connections: commands and pub/sub) and joins or starts the
   * epoch. While Redis cannot be reached it retries, logging a
   * `bus.redis_connect_retry` warning per attempt, for `connectTimeoutMs`
   * (10 s by default); then it gives up, so that the server exits (status 2,
   * one line) rather than run without listening, and whatever supervises it
   * restarts it and shows why.
   *
   * @throws {BusUnavailableError} "Redis at <url> could not be reached within N s (…)".
   */
  static async connect(options: RedisBusOptions): Promise<RedisBus> {
    const ref: { bus?: RedisBus } = {};
    const conn = await RedisConnection.open(options, {
      recovered: () => {
        if (ref.bus) ref.bus.#recovered();
      },
    });
    const bus = ref.bus = new RedisBus(conn, options);
    try {
      bus.#epoch = await conn.timed(bus.#joinEpoch());
    } catch (err) {
      await conn.close();
      throw err;
    }
    return bus;
  }

  get epoch(): string {
    return this.#epoch;
  }

  onMessage(handler: (envelope: Envelope) => void): void {
    this.#onMessage = handler;
  }

  onGap(handler: (gap: GapRange) => void): void {
    this.#onGap = handler;
  }

  onEpochChange(handler: (epoch: string) => void): void {
    this.#onEpochChange = handler;
  }

  /**
   * Publishes the batch atomically (see `redis_publish.ts`).
   *
   * @throws {BusUnavailableError} when Redis is unreachable, does not answer
   * within `commandTimeoutMs`, or `maxPendingPublishes` already wait on it.
   * @throws {ProtocolError} `limit_reached` past `maxTopics` or
   * `maxKeysPerTopic` (the whole batch counted), `invalid_frame` for a patch
   * that cannot be applied. Nothing of the batch is published then.
   */
  async publish(requests: readonly PublishRequest[]): Promise<Envelope[]> {
    const seqs = await this.#publisher.publish(requests);
    return requests.map((req, i) => ({ ...req, seq: seqs[i] }));
  }

  async watch(topic: string): Promise<void> {
    if (this.#feeds.has(topic)) return;
    const feed = this.#newFeed(topic);
    try {
      await this.#subscribe(topic);
      feed.start(await this.#seq(topic));
    } catch (err) {
      // Redis is down or hung: subscribing and starting happen once it is back.
      this.#log.warn("bus.watch_deferred", { topic, error: err });
    }
  }

  unwatch(topic: string): void {
    const feed = this.#feeds.get(topic);
    if (!feed) return;
    feed.stop();
    this.#feeds.delete(topic);
    this.#subscribed.delete(topic);
    this.#conn.sub.unsubscribe(topicChannel(this.#prefix, topic)).catch(() => {});
  }

  async snapshot(topic: string): Promise<TopicSnapshot> {
    const keys = topicKeys(this.#prefix, topic);
    const reply = await this.#conn.timed(
      this.#conn.eval(SNAPSHOT_SCRIPT, [keys.seq, keys.state], []),
    );
    const [seq, flat] = reply as [string, string[]];
    if (flat.length === 0) return { seq: Number(seq), state: undefined };
    const state: Record<string, unknown> = {};
    for (let i = 0; i < flat.length; i += 2) state[flat[i]] = JSON.parse(flat[i + 1]);
    return { seq: Number(seq), state };
  }

  async history(topic: string, afterSeq: number, limit: number): Promise<HistoryPage> {
    return contiguousPage(afterSeq, await this.#range(topic, afterSeq + 1, "+", limit));
  }

  health(): BusHealth {
    return this.#conn.health();
  }

  /** History and keyed state live in Redis: this process holds none of them. */
  held(_now: number): BusHeld {
    return { history: 0, state: 0 };
  }

  counters(): Record<string, number> {
    return {
      ...this.stats,
      ...this.#conn.stats,
      ...this.#publisher.stats,
      pendingPublishes: this.#publisher.pending,
      watchedTopics: this.#feeds.size,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const feed of this.#feeds.values()) feed.stop();
    this.#feeds.clear();
    await this.#conn.close();
  }

  async #subscribe(topic: string): Promise<void> {
    await this.#conn.sub.subscribe(
      topicChannel(this.#prefix, topic),
      (message: string) => this.#received(topic, message),
    );
    this.#subscribed.add(topic);
  }

  #received(topic: string, message: string): void {
    const { seq, e } = JSON.parse(message) as { seq: number; e: Omit<Envelope, "seq"> };
    this.#feeds.get(topic)?.receive({ ...e, seq });
  }

  /** A feed for `topic`, replacing any previous one. */
  #newFeed(topic: string): TopicFeed {
    this.#feeds.get(topic)?.stop();
    const feed = new TopicFeed(topic, {
      fetch: (t, from, to) => this.#range(t, from, to),
      deliver: (env) => this.#onMessage(env),
      gap: (gap) => {
        this.stats.gapped += gap.toSeq - gap.fromSeq + 1;
        this.#log.warn("bus.gap", { ...gap });
        this.#onGap(gap);
      },
      onFetchError: (err) => this.#log.warn("bus.recover_failed", { topic, error: err }),
    });
    this.#feeds.set(topic, feed);
    return feed;
  }

  /** Reads seqs `from..to` (to may be "+") from the stream, dropping entries past their age. */
  async #range(
    topic: string,
    from: number,
    to: number | "+",
    limit = 10_000,
  ): Promise<HistoryPage> {
    const keys = topicKeys(this.#prefix, topic);
    const reply = await this.#conn.timed(
      this.#conn.eval(HISTORY_SCRIPT, [keys.seq, keys.hist], [
        String(from),
        String(to),
        String(limit),
      ]),
    );
    const [seq, entries, oldest] = reply as [string, Entry[], Entry[]];
    const cutoff = Date.now() - this.#history.maxAgeMs;
    const envelopes: Envelope[] = [];
    for (const [id, fields] of entries) {
      if (Number(fields[3]) < cutoff) continue;
      envelopes.push({ ...JSON.parse(fields[1]), seq: Number(id.split("-")[0]) });
    }
    let firstSeq = oldest.length > 0 ? Number(oldest[0][0].split("-")[0]) : 0;
    if (oldest.length > 0 && Number(oldest[0][1][3]) < cutoff) {
      firstSeq = envelopes.length > 0 ? envelopes[0].seq : Number(seq) + 1;
    }
    return { envelopes, firstSeq, lastSeq: Number(seq) };
  }

  async #seq(topic: string): Promise<number> {
    const seq = await this.#conn.timed(this.#conn.cmd.get(topicKeys(this.#prefix, topic).seq));
    return Number(seq ?? 0);
  }

  async #joinEpoch(): Promise<string> {
    const key = `${this.#prefix}:epoch`;
    await this.#conn.cmd.set(key, crypto.randomUUID().slice(0, 8), { NX: true });
    return (await this.#conn.cmd.get(key)) ?? "";
  }

  /** Redis answers again (after an outage or a hang): resync, one run at a time. */
  #recovered(): void {
    if (this.#closed || this.#resyncing) return;
    this.#resyncing = this.#resync()
      .catch((err) => this.#log.error("bus.resync_failed", { error: err }))
      .finally(() => this.#resyncing = undefined);
  }

  /** After a reconnect: detect a lost history (new epoch), else catch every feed up. */
  async #resync(): Promise<void> {
    const key = `${this.#prefix}:epoch`;
    let epoch = await this.#conn.timed(this.#conn.cmd.get(key));
    const seqs = new Map<string, number>();
    for (const topic of this.#feeds.keys()) seqs.set(topic, await this.#seq(topic));
    const regressed = [...this.#feeds].some(([topic, feed]) =>
      feed.lastSeq !== undefined && (seqs.get(topic) ?? 0) < feed.lastSeq
    );
    for (const topic of this.#feeds.keys()) {
      if (!this.#subscribed.has(topic)) await this.#subscribe(topic);
    }
    if (epoch === null || epoch !== this.#epoch || regressed) {
      if (epoch === this.#epoch || epoch === null) {
        epoch = crypto.randomUUID().slice(0, 8);
        await this.#conn.timed(this.#conn.cmd.set(key, epoch));
      }
      this.#epoch = epoch;
      this.stats.epochChanges++;
      this.#log.warn("bus.history_lost", { epoch, regressed });
      for (const topic of [...this.#feeds.keys()]) this.#newFeed(topic).start(seqs.get(topic) ?? 0);
      this.#onEpochChange(epoch);
      return;
    }
    for (const [topic, feed] of this.#feeds) {
      const seq = seqs.get(topic) ?? 0;
      if (feed.lastSeq === undefined) feed.start(seq);
      else {
        if (seq > feed.lastSeq) this.stats.recovered += seq - feed.lastSeq;
        feed.catchUp(seq);
      }
    }
  }
}
