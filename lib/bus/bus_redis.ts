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
 * While Redis is unreachable, publishes fail fast with
 * {@linkcode BusUnavailableError} and connected clients keep being served;
 * reconnection uses exponential backoff.
 *
 * @module
 */
import { createClient } from "redis";
import type { Logger } from "../log/logger.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import { applyMergePatch } from "../protocol/merge_patch.ts";
import type { GapRange } from "../queue/gap_range.ts";
import {
  type Bus,
  type BusHealth,
  type BusHeld,
  BusUnavailableError,
  type Envelope,
  type HistoryPage,
  type PublishRequest,
  type TopicSnapshot,
} from "./bus.ts";
import { DEFAULT_HISTORY } from "./bus_memory.ts";
import type { HistoryLimits } from "./history_buffer.ts";
import { HISTORY_SCRIPT, PUBLISH_SCRIPT, SNAPSHOT_SCRIPT } from "./redis_scripts.ts";
import { TopicFeed } from "./topic_feed.ts";

type RedisClient = ReturnType<typeof createClient>;

/** Options of {@linkcode RedisBus.connect}. */
export interface RedisBusOptions {
  /** `redis://host:port/db`. */
  url: string;
  logger: Logger;
  /** Prefix of every key and channel. @default {"floodgate"} */
  prefix?: string;
  /** History retention per topic; the byte limit does not apply to Redis. */
  history?: Partial<HistoryLimits>;
  /** @default {100000} */
  maxTopics?: number;
  /** @default {100000} */
  maxKeysPerTopic?: number;
  /** Longest wait between reconnection attempts. @default {5000} */
  maxReconnectDelayMs?: number;
}

/** Counters of the Redis bus, for `/metrics`. */
export interface RedisBusStats {
  reconnects: number;
  recovered: number;
  gapped: number;
  epochChanges: number;
}

type Entry = [string, string[]];

/** See the module docs. */
export class RedisBus implements Bus {
  readonly name = "redis";
  readonly stats: RedisBusStats = { reconnects: 0, recovered: 0, gapped: 0, epochChanges: 0 };
  readonly #cmd: RedisClient;
  readonly #sub: RedisClient;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #history: HistoryLimits;
  readonly #maxTopics: number;
  readonly #maxKeys: number;
  readonly #feeds = new Map<string, TopicFeed>();
  /** Topics whose channel is subscribed. */
  readonly #subscribed = new Set<string>();
  readonly #shas = new Map<string, string>();
  #epoch = "";
  #onMessage: (env: Envelope) => void = () => {};
  #onGap: (gap: GapRange) => void = () => {};
  #onEpochChange: (epoch: string) => void = () => {};
  #downSince: number | undefined;
  #closed = false;

  private constructor(cmd: RedisClient, sub: RedisClient, options: RedisBusOptions) {
    this.#cmd = cmd;
    this.#sub = sub;
    this.#log = options.logger;
    this.#prefix = options.prefix ?? "floodgate";
    this.#history = { ...DEFAULT_HISTORY, ...options.history };
    this.#maxTopics = options.maxTopics ?? 100_000;
    this.#maxKeys = options.maxKeysPerTopic ?? 100_000;
  }

  /**
   * Connects (two connections: commands and pub/sub) and joins or starts the
   * epoch.
   *
   * @throws {BusUnavailableError} when Redis cannot be reached at start.
   */
  static async connect(options: RedisBusOptions): Promise<RedisBus> {
    const maxDelay = options.maxReconnectDelayMs ?? 5000;
    const cmd: RedisClient = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2000,
        reconnectStrategy: (retries: number) =>
          Math.min(maxDelay, 50 * 2 ** Math.min(retries, 10)) * (0.5 + Math.random() / 2),
      },
    });
    const sub = cmd.duplicate();
    const bus = new RedisBus(cmd, sub, options);
    for (const [client, role] of [[cmd, "commands"], [sub, "pubsub"]] as const) {
      client.on("error", (err: Error) => bus.#down(role, err));
      client.on("ready", () => bus.#up(role));
    }
    try {
      await cmd.connect();
      await sub.connect();
    } catch (err) {
      for (const c of [cmd, sub]) if (c.isOpen) c.destroy();
      throw new BusUnavailableError(
        `Cannot reach Redis at ${options.url}: ${(err as Error).message}`,
      );
    }
    bus.#epoch = await bus.#joinEpoch();
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

  async publish(requests: readonly PublishRequest[]): Promise<Envelope[]> {
    const cutoff = Date.now() - this.#history.maxAgeMs;
    let seqs: number[];
    if (requests.some((req) => req.op === "patch")) {
      // A patch may have to merge again; one at a time keeps the batch's order.
      seqs = [];
      for (const req of requests) seqs.push(await this.#publishOne(req, cutoff));
    } else {
      seqs = await Promise.all(requests.map((req) => this.#publishOne(req, cutoff)));
    }
    return requests.map((req, i) => ({ ...req, seq: seqs[i] }));
  }

  /**
   * Runs the publish script for one request. A patch is merged here
   * (`applyMergePatch`) from the key's current value; the script applies it
   * only if that value is still current, else this merges again.
   */
  async #publishOne(req: PublishRequest, cutoff: number): Promise<number> {
    const keys = this.#keys(req.topic, true);
    const env = JSON.stringify({
      topic: req.topic,
      key: req.key,
      ts: req.ts,
      op: req.op,
      data: req.op === "delete" ? undefined : req.data,
    });
    for (let attempt = 1;; attempt++) {
      let value = req.key === undefined ? "" : JSON.stringify(req.data) ?? "null";
      let from = "";
      if (req.op === "patch" && req.key !== undefined) {
        from = await this.#cmd.hGet(keys[1], req.key) ?? "";
        value = JSON.stringify(
          applyMergePatch(from === "" ? undefined : JSON.parse(from), req.data),
        );
      }
      try {
        return Number(
          await this.#eval(PUBLISH_SCRIPT, keys, [
            req.topic,
            env,
            req.key ?? "",
            value,
            String(this.#history.maxMessages),
            String(cutoff),
            String(req.ts),
            String(this.#maxTopics),
            String(this.#maxKeys),
            this.#channel(req.topic),
            req.op ?? "",
            from,
          ]),
        );
      } catch (err) {
        if (!String((err as Error).message).includes("conflict:") || attempt >= 50) throw err;
      }
    }
  }

  async watch(topic: string): Promise<void> {
    if (this.#feeds.has(topic)) return;
    const feed = this.#newFeed(topic);
    try {
      await this.#sub.subscribe(
        this.#channel(topic),
        (message: string) => this.#received(topic, message),
      );
      this.#subscribed.add(topic);
      feed.start(await this.#seq(topic));
    } catch (err) {
      // Redis is down: subscribing and starting happen when the connection is back.
      this.#log.warn("bus.watch_deferred", { topic, error: err });
    }
  }

  unwatch(topic: string): void {
    const feed = this.#feeds.get(topic);
    if (!feed) return;
    feed.stop();
    this.#feeds.delete(topic);
    this.#subscribed.delete(topic);
    this.#sub.unsubscribe(this.#channel(topic)).catch(() => {});
  }

  async snapshot(topic: string): Promise<TopicSnapshot> {
    const [seq, flat] = await this.#eval(
      SNAPSHOT_SCRIPT,
      this.#keys(topic, false).slice(0, 2),
      [],
    ) as [
      string,
      string[],
    ];
    if (flat.length === 0) return { seq: Number(seq), state: undefined };
    const state: Record<string, unknown> = {};
    for (let i = 0; i < flat.length; i += 2) state[flat[i]] = JSON.parse(flat[i + 1]);
    return { seq: Number(seq), state };
  }

  async history(topic: string, afterSeq: number, limit: number): Promise<HistoryPage> {
    const page = await this.#range(topic, afterSeq + 1, "+", limit);
    return { envelopes: page.envelopes, firstSeq: page.firstSeq, lastSeq: page.lastSeq };
  }

  health(): BusHealth {
    if (this.#downSince === undefined) return { ok: true };
    return {
      ok: false,
      detail: `Redis unreachable for ${
        Math.round((Date.now() - this.#downSince) / 1000)
      } s; reconnecting`,
    };
  }

  /** History and keyed state live in Redis: this process holds none of them. */
  held(_now: number): BusHeld {
    return { history: 0, state: 0 };
  }

  counters(): Record<string, number> {
    return { ...this.stats, watchedTopics: this.#feeds.size };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const feed of this.#feeds.values()) feed.stop();
    this.#feeds.clear();
    await Promise.allSettled([this.#sub, this.#cmd].map((c) => c.isOpen ? c.quit() : undefined));
    for (const c of [this.#sub, this.#cmd]) if (c.isOpen) c.destroy();
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
  ): Promise<{ envelopes: Envelope[]; firstSeq: number; lastSeq: number }> {
    const [seq, entries, oldest] = await this.#eval(HISTORY_SCRIPT, [
      this.#keys(topic, false)[0],
      this.#keys(topic, false)[2],
    ], [String(from), String(to), String(limit)]) as [string, Entry[], Entry[]];
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
    return Number(await this.#cmd.get(this.#keys(topic, false)[0]) ?? 0);
  }

  /** Runs a script by its SHA1, loading it first (again after a Redis restart). */
  async #eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    try {
      let sha = this.#shas.get(script);
      if (sha === undefined) {
        sha = await this.#cmd.scriptLoad(script);
        this.#shas.set(script, sha);
      }
      try {
        return await this.#cmd.evalSha(sha, { keys, arguments: args });
      } catch (err) {
        if (!String((err as Error).message).includes("NOSCRIPT")) throw err;
        this.#shas.delete(script);
        return await this.#cmd.eval(script, { keys, arguments: args });
      }
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (message.includes("limit_reached")) {
        throw new ProtocolError("limit_reached", message.replace(/^.*limit_reached:\s*/, ""));
      }
      if (!this.#cmd.isReady) throw new BusUnavailableError(`Redis is unreachable (${message})`);
      throw err;
    }
  }

  async #joinEpoch(): Promise<string> {
    const key = `${this.#prefix}:epoch`;
    await this.#cmd.set(key, crypto.randomUUID().slice(0, 8), { NX: true });
    return (await this.#cmd.get(key)) as string;
  }

  #down(role: string, err: Error): void {
    if (this.#closed) return;
    if (this.#downSince === undefined) {
      this.#downSince = Date.now();
      this.#log.error("bus.redis_down", { role, error: err });
    }
  }

  #up(role: string): void {
    if (this.#closed || this.#downSince === undefined) return;
    const outageMs = Date.now() - this.#downSince;
    if (!this.#cmd.isReady || !this.#sub.isReady) return;
    this.#downSince = undefined;
    this.stats.reconnects++;
    this.#log.info("bus.redis_up", { role, outageMs });
    this.#resync().catch((err) => this.#log.error("bus.resync_failed", { error: err }));
  }

  /** After a reconnect: detect a lost history (new epoch), else catch every feed up. */
  async #resync(): Promise<void> {
    const key = `${this.#prefix}:epoch`;
    let epoch = await this.#cmd.get(key);
    const seqs = new Map<string, number>();
    for (const topic of this.#feeds.keys()) seqs.set(topic, await this.#seq(topic));
    const regressed = [...this.#feeds].some(([topic, feed]) =>
      feed.lastSeq !== undefined && (seqs.get(topic) ?? 0) < feed.lastSeq
    );
    for (const topic of this.#feeds.keys()) {
      if (this.#subscribed.has(topic)) continue;
      await this.#sub.subscribe(
        this.#channel(topic),
        (message: string) => this.#received(topic, message),
      );
      this.#subscribed.add(topic);
    }
    if (epoch === null || epoch !== this.#epoch || regressed) {
      if (epoch === this.#epoch || epoch === null) {
        epoch = crypto.randomUUID().slice(0, 8);
        await this.#cmd.set(key, epoch);
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

  /** Keys of a topic: seq, state, hist, and (with `withSet`) the topics set. */
  #keys(topic: string, withSet: boolean): string[] {
    const base = `${this.#prefix}:{${topic}}`;
    const keys = [`${base}:seq`, `${base}:state`, `${base}:hist`];
    return withSet ? [...keys, `${this.#prefix}:topics`] : keys;
  }

  #channel(topic: string): string {
    return `${this.#prefix}:{${topic}}:msg`;
  }
}
