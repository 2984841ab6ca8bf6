/**
 * The Redis bus's two connections (commands and pub/sub) and what keeps a
 * Redis that is down or hung from hanging Floodgate with it:
 *
 * - **Startup.** {@linkcode RedisConnection.open} retries, logging one
 *   `bus.redis_connect_retry` warning per failed attempt, and gives up after
 *   `connectTimeoutMs` with a {@linkcode BusUnavailableError}: the server then
 *   exits (status 2, one line) instead of waiting forever without listening, so
 *   that a supervisor (systemd, Kubernetes) restarts it and shows the failure.
 * - **Outage.** Once started, a lost connection is retried forever with
 *   exponential backoff; commands fail at once meanwhile (no offline queue).
 * - **Hang.** A Redis that keeps its connections open but does not answer
 *   (SIGSTOP, a blocked event loop) is caught by {@linkcode RedisConnection.timed}:
 *   a command not answered within `commandTimeoutMs` fails with
 *   {@linkcode BusUnavailableError}, and {@linkcode RedisConnection.health}
 *   reports not ok until a command is answered again. A `TIME` probe every
 *   `commandTimeoutMs` notices a hang (and its end) without traffic, and keeps
 *   the estimate of Redis's clock used for publish deadlines.
 *
 * @module
 */
import { createClient, ErrorReply } from "redis";
import type { Logger } from "../log/logger.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import { type BusHealth, BusUnavailableError } from "./bus.ts";

/** A node-redis client. */
export type RedisClient = ReturnType<typeof createClient>;

/** Options of {@linkcode RedisConnection.open}. */
export interface RedisConnectionOptions {
  /** `redis://host:port/db`. */
  url: string;
  logger: Logger;
  /**
   * How long startup keeps trying to reach Redis (refused, unresolvable, or
   * connected but not answering) before giving up with
   * {@linkcode BusUnavailableError}.
   * @default {10000}
   */
  connectTimeoutMs?: number;
  /**
   * Longest wait for Redis to answer a command (a whole publish, merges
   * retried included); past it the command fails with
   * {@linkcode BusUnavailableError} and health reports not ok until Redis
   * answers again.
   * @default {2000}
   */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts once started. @default {5000} */
  maxReconnectDelayMs?: number;
}

/** What the connection tells its bus. */
export interface ConnectionEvents {
  /**
   * Redis is reachable and answering again after an outage or a hang: the bus
   * catches its feeds up (pub/sub may have lost messages meanwhile).
   */
  recovered(): void;
}

/** Counters of the connection, for `/metrics`. */
export interface ConnectionStats {
  reconnects: number;
  commandTimeouts: number;
}

/** `url` without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const backoff = (retries: number, maxDelay: number) =>
  Math.min(maxDelay, 50 * 2 ** Math.min(retries, 10)) * (0.5 + Math.random() / 2);

/** See the module docs. */
export class RedisConnection {
  /** The commands connection. */
  readonly cmd: RedisClient;
  /** The pub/sub connection. */
  readonly sub: RedisClient;
  /** @default {2000} */
  readonly commandTimeoutMs: number;
  readonly stats: ConnectionStats = { reconnects: 0, commandTimeouts: 0 };
  readonly #log: Logger;
  readonly #events: ConnectionEvents;
  readonly #shas = new Map<string, string>();
  /** `done` once both connections were ready: errors before are startup attempts. */
  readonly #startup: { done: boolean };
  #closed = false;
  #downSince: number | undefined;
  #stalledSince: number | undefined;
  /** Redis clock minus local clock, in ms; undefined until measured. */
  #clockOffset: number | undefined;
  #probing = false;
  #probeTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    cmd: RedisClient,
    sub: RedisClient,
    options: RedisConnectionOptions,
    events: ConnectionEvents,
    startup: { done: boolean },
  ) {
    this.#startup = startup;
    this.cmd = cmd;
    this.sub = sub;
    this.#log = options.logger;
    this.#events = events;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
  }

  /**
   * Opens both connections, retrying until `connectTimeoutMs` has passed.
   *
   * @throws {BusUnavailableError} "Redis at <url> could not be reached within N s (…)".
   */
  static async open(
    options: RedisConnectionOptions,
    events: ConnectionEvents,
  ): Promise<RedisConnection> {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const maxDelay = options.maxReconnectDelayMs ?? 5000;
    const url = redactUrl(options.url);
    const deadline = Date.now() + connectTimeoutMs;
    const startup = { done: false, abandoned: false, attempts: 0 };
    const client = (role: string): RedisClient =>
      createClient({
        url: options.url,
        disableOfflineQueue: true,
        socket: {
          connectTimeout: Math.min(2000, connectTimeoutMs),
          reconnectStrategy: (retries: number, cause: Error) => {
            if (startup.done) return backoff(retries, maxDelay);
            if (startup.abandoned) return new BusUnavailableError("startup gave up");
            startup.attempts++;
            const waitMs = Math.max(0, Math.min(backoff(retries, maxDelay), deadline - Date.now()));
            const givingUp = Date.now() >= deadline;
            options.logger.warn("bus.redis_connect_retry", {
              role,
              url,
              attempt: retries + 1,
              error: messageOf(cause),
              ...(givingUp ? { givingUp } : { retryInMs: Math.round(waitMs) }),
            });
            return givingUp ? new BusUnavailableError(messageOf(cause)) : waitMs;
          },
        },
      });
    const cmd = client("commands");
    const sub = client("pubsub");
    const self = new RedisConnection(cmd, sub, options, events, startup);
    for (const [c, role] of [[cmd, "commands"], [sub, "pubsub"]] as const) {
      c.on("error", (err: Error) => self.#down(role, err));
      c.on("ready", () => self.#up(role));
    }
    // A Redis that accepts connections but never answers would hang connect() for good.
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      giveUp = setTimeout(() => {
        startup.abandoned = true;
        reject(new BusUnavailableError("Redis accepted the connection but did not answer"));
      }, connectTimeoutMs);
    });
    try {
      await Promise.race([
        (async () => {
          await cmd.connect();
          await sub.connect();
        })(),
        hung,
      ]);
      startup.done = true;
      await self.#measureClock();
    } catch (err) {
      for (const c of [cmd, sub]) if (c.isOpen) c.destroy();
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      const attempts = Math.max(1, startup.attempts);
      throw new BusUnavailableError(
        `Redis at ${url} could not be reached within ${
          connectTimeoutMs / 1000
        } s (${attempts} failed attempt${attempts === 1 ? "" : "s"}; last: ${messageOf(cause)})`,
      );
    } finally {
      clearTimeout(giveUp);
    }
    const probe = setInterval(() => self.#probe(), self.commandTimeoutMs);
    Deno.unrefTimer(probe);
    self.#probeTimer = probe;
    return self;
  }

  /**
   * Resolves or rejects as `work` does, or rejects with
   * {@linkcode BusUnavailableError} once `commandTimeoutMs` has passed without
   * it settling; health then reports not ok until a command is answered.
   * `late` receives what `work` resolves with after the caller was told it
   * failed.
   *
   * @throws {BusUnavailableError} "Redis did not answer within N ms".
   */
  timed<T>(work: Promise<T>, late?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.stats.commandTimeouts++;
        this.#stalled();
        reject(new BusUnavailableError(`Redis did not answer within ${this.commandTimeoutMs} ms`));
      }, this.commandTimeoutMs);
      work.then((value) => {
        clearTimeout(timer);
        this.#answered();
        if (timedOut) late?.(value);
        else resolve(value);
      }, (err) => {
        clearTimeout(timer);
        if (err instanceof ErrorReply || err instanceof ProtocolError) this.#answered();
        if (!timedOut) reject(err);
      });
    });
  }

  /**
   * Runs a script by its SHA1, loading it first (again after a Redis restart),
   * without a timeout of its own (wrap it in {@linkcode RedisConnection.timed}).
   *
   * @throws {ProtocolError} `limit_reached` when the script refuses with it.
   * @throws {BusUnavailableError} when Redis is unreachable, or ran the script
   * past its deadline (`expired:`).
   */
  async eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    try {
      let sha = this.#shas.get(script);
      if (sha === undefined) {
        sha = await this.cmd.scriptLoad(script);
        this.#shas.set(script, sha);
      }
      try {
        return await this.cmd.evalSha(sha, { keys, arguments: args });
      } catch (err) {
        if (!messageOf(err).includes("NOSCRIPT")) throw err;
        this.#shas.delete(script);
        return await this.cmd.eval(script, { keys, arguments: args });
      }
    } catch (err) {
      if (err instanceof ErrorReply) this.#answered(); // an error, but Redis answers
      const message = messageOf(err);
      if (message.includes("limit_reached")) {
        throw new ProtocolError("limit_reached", message.replace(/^.*limit_reached:\s*/, ""));
      }
      if (message.includes("expired:")) {
        throw new BusUnavailableError(`Redis did not answer within ${this.commandTimeoutMs} ms`);
      }
      throw this.unavailable(err);
    }
  }

  /**
   * `err` (from a command) as a {@linkcode BusUnavailableError} "Redis is
   * unreachable (…)" when the commands connection is down; as is otherwise.
   */
  unavailable(err: unknown): unknown {
    if (this.cmd.isReady || err instanceof BusUnavailableError) return err;
    return new BusUnavailableError(`Redis is unreachable (${messageOf(err)})`);
  }

  /**
   * The Redis-clock time (ms) after which a write sent now must not run: a
   * little before the caller's `commandTimeoutMs` runs out, so that a reply
   * on its way back as the caller gives up is rare. 0 while Redis's clock is
   * unknown (no deadline).
   */
  deadline(): number {
    if (this.#clockOffset === undefined) return 0;
    const margin = Math.min(500, this.commandTimeoutMs / 4);
    return Math.round(Date.now() + this.#clockOffset + this.commandTimeoutMs - margin);
  }

  /** Not ok while Redis is unreachable or has left a command unanswered. */
  health(): BusHealth {
    const now = Date.now();
    if (this.#downSince !== undefined) {
      return {
        ok: false,
        detail: `Redis unreachable for ${
          Math.round((now - this.#downSince) / 1000)
        } s; reconnecting`,
      };
    }
    if (this.#stalledSince !== undefined) {
      return {
        ok: false,
        detail: `Redis did not answer within ${this.commandTimeoutMs} ms (stalled for ${
          Math.round((now - this.#stalledSince) / 1000)
        } s); publishes fail until it answers`,
      };
    }
    return { ok: true };
  }

  /** Quits both connections (waiting at most `commandTimeoutMs`), then drops them. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#probeTimer);
    const clients = [this.sub, this.cmd];
    await Promise.allSettled(
      clients.map((c) => c.isReady ? this.timed(c.quit()).catch(() => {}) : undefined),
    );
    for (const c of clients) if (c.isOpen) c.destroy();
  }

  async #measureClock(): Promise<void> {
    const before = Date.now();
    const [seconds, micros] = await this.timed(this.cmd.time());
    const after = Date.now();
    // A reply that waited behind other commands says little about the clock.
    if (this.#clockOffset !== undefined && after - before > 200) return;
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    this.#clockOffset = redisMs - (before + after) / 2;
  }

  #probe(): void {
    if (this.#closed || this.#probing || !this.cmd.isReady) return;
    this.#probing = true;
    this.#measureClock().catch(() => {}).finally(() => this.#probing = false);
  }

  #stalled(): void {
    if (this.#stalledSince !== undefined || this.#closed) return;
    this.#stalledSince = Date.now();
    this.#log.error("bus.redis_stalled", { timeoutMs: this.commandTimeoutMs });
  }

  #answered(): void {
    if (this.#stalledSince === undefined || this.#closed) return;
    const stalledMs = Date.now() - this.#stalledSince;
    this.#stalledSince = undefined;
    this.#log.info("bus.redis_answering", { stalledMs });
    if (this.#downSince === undefined) this.#events.recovered();
  }

  #down(role: string, err: Error): void {
    if (this.#closed || !this.#startup.done) return; // startup attempts are logged by the strategy
    if (this.#downSince === undefined) {
      this.#downSince = Date.now();
      this.#log.error("bus.redis_down", { role, error: err });
    }
  }

  #up(role: string): void {
    if (this.#closed || this.#downSince === undefined) return;
    const outageMs = Date.now() - this.#downSince;
    if (!this.cmd.isReady || !this.sub.isReady) return;
    this.#downSince = undefined;
    this.#stalledSince = undefined;
    this.stats.reconnects++;
    this.#log.info("bus.redis_up", { role, outageMs });
    this.#measureClock().catch(() => {});
    this.#events.recovered();
  }
}
