/**
 * Publishing on the Redis bus: a whole batch in one atomic script
 * ({@linkcode PUBLISH_BATCH_SCRIPT}), so it is published entirely or not at
 * all, and its seqs are taken only once nothing can refuse it any more.
 *
 * Patches are merged here, before the script runs, from the keys' current
 * values (and from the batch's own earlier requests); the script applies them
 * only if those values are still current, else the batch is merged again.
 * A publish that cannot be encoded or merged is refused before reaching Redis.
 *
 * A hung Redis cannot pile publishes up in memory: at most
 * `maxPendingPublishes` wait on it; more are refused at once. Each waits at
 * most `commandTimeoutMs` ({@linkcode RedisConnection.timed}), and carries a
 * deadline the script checks, so a publish whose caller was told it failed is
 * not applied when Redis wakes up later.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { BusUnavailableError, type PublishRequest } from "./bus.ts";
import type { HistoryLimits } from "./history_buffer.ts";
import { mergeForPublish } from "./merge_state.ts";
import type { RedisConnection } from "./redis_connection.ts";
import { PUBLISH_BATCH_SCRIPT, topicChannel, topicKeys, topicsSetKey } from "./redis_scripts.ts";

/** Settings of a {@linkcode RedisPublisher}. */
export interface RedisPublisherOptions {
  prefix: string;
  logger: Logger;
  history: HistoryLimits;
  /** 0 = none. */
  maxTopics: number;
  /** 0 = none. */
  maxKeysPerTopic: number;
  /** @default {1000} */
  maxPendingPublishes?: number;
}

/** Counters of the publisher, for `/metrics`. */
export interface PublisherStats {
  /** Publishes refused at once because `maxPendingPublishes` were waiting on Redis. */
  publishesShed: number;
  /** Publishes Redis applied after their caller was told they failed (should stay 0). */
  latePublishes: number;
}

/** Most times a batch is merged again after a conflicting write. */
const MAX_ATTEMPTS = 50;

/** The part of a batch that does not change between attempts. */
interface Layout {
  topics: string[];
  /** 1-based index into `topics`, per request. */
  topicOf: number[];
  keys: string[];
  /** Envelope JSON (without seq) per request. */
  envs: string[];
}

/** See the module docs. */
export class RedisPublisher {
  readonly stats: PublisherStats = { publishesShed: 0, latePublishes: 0 };
  readonly #conn: RedisConnection;
  readonly #options: RedisPublisherOptions;
  readonly #maxPending: number;
  #pending = 0;

  constructor(conn: RedisConnection, options: RedisPublisherOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#maxPending = options.maxPendingPublishes ?? 1000;
  }

  /** Publishes waiting on Redis now. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Publishes the batch atomically; resolves with the seqs in request order.
   *
   * @throws {BusUnavailableError} when `maxPendingPublishes` already wait on
   * Redis, Redis is unreachable or does not answer within `commandTimeoutMs`.
   * @throws {ProtocolError} `limit_reached` or `invalid_frame`; nothing is published then.
   */
  publish(requests: readonly PublishRequest[]): Promise<number[]> {
    if (requests.length === 0) return Promise.resolve([]);
    if (this.#pending >= this.#maxPending) {
      this.stats.publishesShed++;
      return Promise.reject(
        new BusUnavailableError(
          `${this.#pending} publishes are already waiting on Redis (maxPendingPublishes)`,
        ),
      );
    }
    let layout: Layout;
    try {
      layout = this.#layout(requests);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#pending++;
    // One deadline for every attempt: the caller stops waiting `commandTimeoutMs` from now.
    const work = this.#run(requests, layout, this.#conn.deadline());
    const settled = () => this.#pending--;
    work.then(settled, settled);
    return this.#conn.timed(work, (seqs) => {
      this.stats.latePublishes++;
      this.#options.logger.warn("bus.publish_late", {
        topic: requests[0].topic,
        seqs: `${seqs[0]}..${seqs[seqs.length - 1]}`,
      });
    });
  }

  #layout(requests: readonly PublishRequest[]): Layout {
    const index = new Map<string, number>();
    const layout: Layout = { topics: [], topicOf: [], keys: [], envs: [] };
    for (const req of requests) {
      let t = index.get(req.topic);
      if (t === undefined) {
        layout.topics.push(req.topic);
        index.set(req.topic, t = layout.topics.length);
      }
      layout.topicOf.push(t);
      layout.envs.push(JSON.stringify({
        topic: req.topic,
        key: req.key,
        ts: req.ts,
        op: req.op,
        data: req.op === "delete" ? undefined : req.data,
      }));
    }
    const { prefix } = this.#options;
    layout.keys.push(topicsSetKey(prefix));
    for (const topic of layout.topics) {
      const k = topicKeys(prefix, topic);
      layout.keys.push(k.seq, k.state, k.hist);
    }
    return layout;
  }

  async #run(
    requests: readonly PublishRequest[],
    layout: Layout,
    deadline: number,
  ): Promise<number[]> {
    const hasPatch = requests.some((req) => req.op === "patch" && req.key !== undefined);
    for (let attempt = 1;; attempt++) {
      const current = hasPatch
        ? await this.#read(requests, layout).catch((err) => {
          throw this.#conn.unavailable(err);
        })
        : new Map();
      const args = this.#args(requests, layout, current, deadline);
      let seqs: unknown;
      try {
        seqs = await this.#conn.eval(PUBLISH_BATCH_SCRIPT, layout.keys, args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.includes("conflict:")) throw err;
        if (attempt >= MAX_ATTEMPTS) throw err;
        continue;
      }
      if (!Array.isArray(seqs) || seqs.length !== requests.length) {
        throw new TypeError(`The publish script answered ${JSON.stringify(seqs)}, not the seqs`);
      }
      return seqs.map(Number);
    }
  }

  /** Current values (JSON, "" for none) of the keys the batch patches, by `t` then key. */
  async #read(
    requests: readonly PublishRequest[],
    layout: Layout,
  ): Promise<Map<number, Map<string, string>>> {
    const wanted = new Map<number, Set<string>>();
    requests.forEach((req, i) => {
      if (req.op !== "patch" || req.key === undefined) return;
      const t = layout.topicOf[i];
      let keys = wanted.get(t);
      if (keys === undefined) wanted.set(t, keys = new Set());
      keys.add(req.key);
    });
    const out = new Map<number, Map<string, string>>();
    await Promise.all([...wanted].map(async ([t, keys]) => {
      const list = [...keys];
      const state = topicKeys(this.#options.prefix, layout.topics[t - 1]).state;
      const values = await this.#conn.cmd.hmGet(state, list);
      out.set(t, new Map(list.map((key, i) => [key, values[i] ?? ""])));
    }));
    return out;
  }

  /** The script's ARGV: merges every patch (following the batch's own earlier requests). */
  #args(
    requests: readonly PublishRequest[],
    layout: Layout,
    current: Map<number, Map<string, string>>,
    deadline: number,
  ): string[] {
    const { history, maxTopics, maxKeysPerTopic, prefix } = this.#options;
    const args = [
      String(history.maxMessages),
      String(Date.now() - history.maxAgeMs),
      String(maxTopics),
      String(maxKeysPerTopic),
      String(deadline),
      String(layout.topics.length),
      ...layout.topics,
      ...layout.topics.map((topic) => topicChannel(prefix, topic)),
    ];
    /** The value of each key touched so far in the batch, by "t key"; null: deleted. */
    const batch = new Map<string, { value: unknown } | null>();
    const checks: string[] = [];
    const items: string[] = [];
    requests.forEach((req, i) => {
      const t = layout.topicOf[i];
      let value = "";
      if (req.key !== undefined) {
        const id = `${t} ${req.key}`;
        if (req.op === "patch") {
          let base = batch.get(id);
          if (base === undefined) {
            const from = current.get(t)?.get(req.key) ?? "";
            checks.push(String(t), req.key, from);
            base = from === "" ? null : { value: JSON.parse(from) };
          }
          const merged = mergeForPublish(req, base?.value);
          batch.set(id, { value: merged });
          value = JSON.stringify(merged) ?? "null";
        } else if (req.op === "delete") {
          batch.set(id, null);
        } else {
          batch.set(id, { value: req.data });
          value = JSON.stringify(req.data) ?? "null";
        }
      }
      items.push(String(t), layout.envs[i], req.key ?? "", value, req.op ?? "", String(req.ts));
    });
    args.push(String(checks.length / 3), ...checks, String(requests.length), ...items);
    return args;
  }
}
