/**
 * The Floodgate client: one WebSocket that reconnects with backoff, resumes
 * every topic from its last seq, answers the server's pings (its heartbeat and
 * flow control), unpacks batches, reassembles chunked frames, and keeps a
 * keyed-state store per topic. Uses only web APIs (WebSocket, fetch, timers),
 * so it runs in browsers and in Deno.
 *
 * @module
 */
import { type Codec, type CodecName, createCodec, type ReceivedFrame } from "../protocol/codec.ts";
import type { GapFrame, SnapshotFrame } from "../protocol/frames.ts";
import { isChunkedType } from "../protocol/parse.ts";
import { codecOf, JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL } from "../protocol/subprotocol.ts";
import { validateTopic } from "../protocol/topic_name.ts";
import { backoffDelay } from "./backoff.ts";
import { ChunkReassembly } from "./chunk_reassembly.ts";
import type { ClientStats, ConnectOptions, Subscription } from "./connect_options.ts";
import { Emitter } from "./emitter.ts";
import type { ClientEvents, ConnectionStatus, Message, MessageHandler } from "./events.ts";
import { FloodgateError } from "./floodgate_error.ts";
import { fetchTopicState, httpBaseOf, resolveSocketUrl } from "./http.ts";
import type { KeyedState } from "./keyed_state.ts";
import { type FetchedState, TopicSync, type TopicSyncContext } from "./topic_sync.ts";

export type { ClientStats, ConnectOptions, Subscription };
export { FloodgateError };

/** Client close code used when the client abandons a dead or stuck connection. */
export const CLIENT_LIVENESS_CLOSE = 4000;

const FATAL_CLOSE_CODES = new Set([4001, 4003, 4010]);

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  sentAt: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A Floodgate connection. Create it with {@linkcode connect}.
 *
 * @example
 * ```ts ignore
 * const fg = connect("ws://localhost:8080/ws");
 * fg.subscribe("sessions", (msg) => console.log(msg.key, msg.data));
 * fg.on("gap", (g) => console.warn("missed", g.fromSeq, "to", g.toSeq, g.reason));
 * const sessions = fg.state("sessions"); // live keyed state
 * ```
 */
export class FloodgateClient {
  /** The WebSocket URL (without the token). */
  readonly url: string;
  readonly #url: URL;
  readonly #httpBase: string;
  readonly #options: ConnectOptions;
  readonly #WebSocket: typeof WebSocket;
  readonly #fetch: typeof fetch;
  readonly #events = new Emitter<ClientEvents>();
  readonly #topics = new Map<string, TopicSync>();
  readonly #ctx: TopicSyncContext;
  readonly #chunks: ChunkReassembly;
  readonly #acks = new Map<number, Pending<number>>();
  readonly #pings = new Map<number, Pending<number>>();
  readonly #stats: ClientStats = {
    messages: 0,
    frames: 0,
    gaps: 0,
    duplicates: 0,
    reconnects: 0,
    chunkedFrames: 0,
  };
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #ws: WebSocket | undefined;
  #codec: Codec = createCodec("json");
  #status: ConnectionStatus = "connecting";
  #epoch: string | undefined;
  #clientId: string | undefined;
  #heartbeatMs = 15_000;
  #welcomed = false;
  #everWelcomed = false;
  #attempt = 0;
  #nextId = 1;
  #connectStartedAt = 0;
  #lastFrameAt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #livenessTimer: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  constructor(url: string | URL, options: ConnectOptions = {}) {
    this.#url = resolveSocketUrl(url);
    this.url = this.#url.href;
    this.#httpBase = (options.httpUrl ?? httpBaseOf(this.#url)).replace(/\/$/, "");
    this.#options = options;
    createCodec(options.codec ?? "json"); // validates the name
    const WS = options.WebSocket ?? globalThis.WebSocket;
    if (!WS) throw new TypeError("No WebSocket implementation: pass options.WebSocket");
    this.#WebSocket = WS;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    // A discarded transfer's seqs show up as a `missing` gap when the next message arrives.
    this.#chunks = new ChunkReassembly(
      options.chunks,
      (code, message) => this.#events.emit("error", { code, message }),
    );
    this.#closed = new Promise((r) => (this.#resolveClosed = r));
    this.#ctx = {
      events: this.#events,
      refetchOnGap: options.refetchOnGap ?? true,
      fetchState: (topic) => this.#fetchState(topic),
      epoch: () => this.#epoch,
    };
    for (const topic of options.topics ?? []) this.#topic(topic).pinned = true;
    this.#events.on("gap", () => this.#stats.gaps++);
    // Start after the caller had a chance to add listeners: they see every event.
    queueMicrotask(() => this.#open());
  }

  /** Where the connection is. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The server's id for the current connection (from `welcome`). */
  get clientId(): string | undefined {
    return this.#clientId;
  }

  /** The server's epoch (from the latest `welcome`). */
  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** The codec in use on the current connection. */
  get codec(): CodecName {
    return this.#codec.name;
  }

  /** Running totals. */
  get stats(): Readonly<ClientStats> {
    let duplicates = 0;
    for (const t of this.#topics.values()) duplicates += t.duplicates;
    return { ...this.#stats, duplicates };
  }

  /** Subscribed topics. */
  get topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** The last seq received (or skipped by a gap) on `topic`. */
  lastSeq(topic: string): number | undefined {
    return this.#topics.get(topic)?.lastSeq;
  }

  /** Adds an event listener; returns the function that removes it. */
  on<K extends keyof ClientEvents>(name: K, listener: (payload: ClientEvents[K]) => void) {
    return this.#events.on(name, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof ClientEvents>(name: K, listener: (payload: ClientEvents[K]) => void) {
    return this.#events.once(name, listener);
  }

  /**
   * Subscribes to `topic`; `handler` gets each of its messages in seq order.
   *
   * @throws {TypeError} when the topic name is invalid.
   */
  subscribe<T = unknown>(topic: string, handler?: MessageHandler<T>): Subscription {
    const sync = this.#topic(topic);
    const h = handler as MessageHandler | undefined;
    if (h) sync.handlers.add(h);
    return {
      topic,
      state: sync.state,
      unsubscribe: () => {
        if (h) sync.handlers.delete(h);
        if (sync.handlers.size === 0 && !sync.pinned) this.unsubscribe(topic);
      },
    };
  }

  /** Unsubscribes from `topic`, dropping its handlers and state. */
  unsubscribe(topic: string): void {
    if (!this.#topics.delete(topic)) return;
    if (this.#welcomed) this.#send({ type: "unsubscribe", topics: [topic] });
  }

  /**
   * The live keyed state of `topic`, subscribing to it if needed; the topic
   * then stays subscribed until {@linkcode FloodgateClient.unsubscribe}.
   *
   * @throws {TypeError} when the topic name is invalid.
   */
  state<T = unknown>(topic: string): KeyedState<T> {
    const sync = this.#topic(topic);
    sync.pinned = true;
    return sync.state as KeyedState<T>;
  }

  /**
   * Publishes over the WebSocket and resolves with the seq the server gave it.
   *
   * @throws {FloodgateError} (rejects) when the server refuses it, or the
   * connection is not open or closes before the `ack` (the publish may then
   * have been applied or not).
   */
  publish(topic: string, data: unknown, options: { key?: string } = {}): Promise<number> {
    if (!this.#welcomed) {
      return Promise.reject(
        new FloodgateError("not_connected", `Cannot publish to "${topic}": not connected`),
      );
    }
    const id = this.#nextId++;
    const frame: Record<string, unknown> = { type: "publish", topic, data, id };
    if (options.key !== undefined) frame.key = options.key;
    return new Promise((resolve, reject) => {
      this.#acks.set(id, { resolve, reject, sentAt: Date.now() });
      this.#send(frame);
    });
  }

  /** Sends a `ping` and resolves with the round-trip time in milliseconds. */
  ping(): Promise<number> {
    if (!this.#welcomed) {
      return Promise.reject(new FloodgateError("not_connected", "Cannot ping: not connected"));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pings.set(id, { resolve, reject, sentAt: performance.now() });
      this.#send({ type: "ping", id });
    });
  }

  /** Closes the connection for good; resolves once the socket has closed. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      clearTimeout(this.#reconnectTimer);
      const ws = this.#ws;
      if (ws && ws.readyState <= 1) {
        ws.close(1000, "client closed");
      } else {
        this.#finish(1000, "client closed");
      }
    }
    return this.#closed;
  }

  #topic(topic: string): TopicSync {
    let sync = this.#topics.get(topic);
    if (sync) return sync;
    try {
      validateTopic(topic);
    } catch (err) {
      throw new TypeError((err as Error).message);
    }
    sync = new TopicSync(topic, this.#ctx);
    this.#topics.set(topic, sync);
    if (this.#welcomed) this.#send({ type: "subscribe", topics: [topic] });
    return sync;
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    const previous = this.#status;
    this.#status = status;
    this.#events.emit("status", { status, previous });
  }

  async #open(): Promise<void> {
    if (this.#closing) return;
    this.#setStatus("connecting");
    this.#connectStartedAt = Date.now();
    let url = this.#url;
    const token = this.#options.token;
    if (token !== undefined) {
      let value: string;
      try {
        value = typeof token === "function" ? await token() : token;
      } catch (err) {
        this.#events.emit("error", {
          code: "connect_failed",
          message: `The token function failed: ${(err as Error).message}`,
        });
        this.#socketClosed(CLIENT_LIVENESS_CLOSE, "token function failed");
        return;
      }
      url = new URL(url.href);
      url.searchParams.set("token", value);
    }
    if (this.#closing) return this.#finish(1000, "client closed");
    // The SDK speaks the protocol (it answers pings and reassembles chunks), so it offers a
    // floodgate.v1.* subprotocol; without one the server treats it as a plain client. MessagePack
    // is asked for with JSON as the fallback.
    let ws: WebSocket;
    try {
      ws = new this.#WebSocket(
        url.href,
        this.#options.codec === "msgpack"
          ? [MSGPACK_SUBPROTOCOL, JSON_SUBPROTOCOL]
          : [JSON_SUBPROTOCOL],
      );
    } catch (err) {
      this.#events.emit("error", {
        code: "connect_failed",
        message: `Cannot open a WebSocket to ${this.url}: ${(err as Error).message}`,
      });
      this.#socketClosed(CLIENT_LIVENESS_CLOSE, "WebSocket constructor failed");
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      const name = codecOf(ws.protocol);
      if (name !== this.#codec.name) this.#codec = createCodec(name);
      this.#lastFrameAt = Date.now();
    };
    ws.onmessage = (e: MessageEvent) => {
      if (ws !== this.#ws) return;
      this.#lastFrameAt = Date.now();
      this.#stats.frames++;
      this.#receive(e.data);
    };
    ws.onclose = (e: CloseEvent) => {
      if (ws === this.#ws) this.#socketClosed(e.code, e.reason);
    };
    // A close event follows every error. Listening keeps WebSocket implementations built on
    // event emitters (npm:ws) from throwing an unhandled "error", e.g. on a refused connect.
    ws.onerror = () => {};
    this.#startLiveness();
  }

  #startLiveness(): void {
    clearInterval(this.#livenessTimer);
    const tick = Math.max(50, Math.min(1000, this.#heartbeatMs / 4));
    this.#livenessTimer = setInterval(() => this.#checkLiveness(), tick);
  }

  #checkLiveness(): void {
    const now = Date.now();
    this.#chunks.expire(now);
    if (!this.#welcomed) {
      const limit = this.#options.connectTimeoutMs ?? 10_000;
      if (now - this.#connectStartedAt > limit) {
        this.#abandon("connect_failed", `No welcome from ${this.url} within ${limit} ms`);
      }
      return;
    }
    const limit = this.#options.livenessTimeoutMs ?? 2 * this.#heartbeatMs + 5000;
    if (now - this.#lastFrameAt > limit) {
      this.#abandon("liveness_timeout", `No frame from the server for ${limit} ms`);
    }
  }

  /** Gives up on the current socket without waiting for its closing handshake. */
  #abandon(code: string, message: string): void {
    const ws = this.#ws;
    if (!ws) return;
    this.#events.emit("error", { code, message });
    ws.onmessage = null;
    ws.onopen = null;
    try {
      ws.close(CLIENT_LIVENESS_CLOSE, code);
    } catch {
      // already closing
    }
    this.#socketClosed(CLIENT_LIVENESS_CLOSE, message);
  }

  #socketClosed(code: number, reason: string): void {
    this.#ws = undefined;
    this.#welcomed = false;
    clearInterval(this.#livenessTimer);
    this.#chunks.clear();
    const err = () => new FloodgateError("connection_closed", `Connection closed (${code})`);
    for (const p of this.#acks.values()) p.reject(err());
    for (const p of this.#pings.values()) p.reject(err());
    this.#acks.clear();
    this.#pings.clear();
    for (const t of this.#topics.values()) t.live = false;
    if (this.#closing) return this.#finish(code, reason);
    const fatal = FATAL_CLOSE_CODES.has(code) && typeof this.#options.token !== "function";
    if (fatal || this.#options.reconnect === false) return this.#finish(code, reason);
    this.#scheduleReconnect(code, reason);
  }

  #scheduleReconnect(code: number, reason: string): void {
    const reconnect = this.#options.reconnect || {};
    const delay = backoffDelay(this.#attempt++, reconnect, this.#options.random);
    this.#setStatus("reconnecting");
    this.#events.emit("close", { code, reason, reconnectInMs: delay });
    this.#reconnectTimer = setTimeout(() => {
      this.#stats.reconnects++;
      this.#open();
    }, delay);
  }

  #finish(code: number, reason: string): void {
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#livenessTimer);
    const wasClosed = this.#status === "closed";
    this.#setStatus("closed");
    if (!wasClosed) this.#events.emit("close", { code, reason });
    this.#resolveClosed();
  }

  #send(frame: object): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== 1) return;
    // `encode` makes a fresh array over a plain ArrayBuffer, as the DOM's `send` wants.
    ws.send(this.#codec.encode(frame) as string | Uint8Array<ArrayBuffer>);
  }

  #receive(data: unknown): void {
    let frame: unknown;
    try {
      frame = this.#codec.decode(data as ReceivedFrame);
    } catch (err) {
      this.#events.emit("error", { code: "bad_frame", message: (err as Error).message });
      return;
    }
    this.#handle(frame, true);
  }

  #handle(frame: unknown, allowChunks: boolean): void {
    if (!isObject(frame) || typeof frame.type !== "string") {
      this.#events.emit("error", {
        code: "bad_frame",
        message: 'The server sent a frame that is not an object with a "type"',
      });
      return;
    }
    if (isChunkedType(frame.type)) {
      if (!allowChunks) {
        this.#events.emit("error", {
          code: "bad_frame",
          message: "A reassembled chunked frame contained another chunk frame",
        });
        return;
      }
      this.#chunk(frame);
      return;
    }
    switch (frame.type) {
      case "ping":
        // Answer at once: the server's heartbeat and its flow control both wait for it.
        this.#send(
          typeof frame.id === "number" ? { type: "pong", id: frame.id } : { type: "pong" },
        );
        return;
      case "pong":
        this.#pong(frame.id);
        return;
      case "welcome":
        this.#welcome(frame);
        return;
      case "batch":
        if (Array.isArray(frame.messages)) {
          for (const item of frame.messages) this.#handle(item, allowChunks);
        }
        return;
      case "message": {
        const m = frame as unknown as Message;
        const sync = this.#topics.get(m.topic);
        if (!sync || typeof m.seq !== "number") return;
        this.#stats.messages++;
        sync.message(m);
        return;
      }
      case "gap":
        this.#topics.get(frame.topic as string)?.gapFrame(frame as unknown as GapFrame);
        return;
      case "snapshot":
        this.#topics.get(frame.topic as string)?.snapshot(frame as unknown as SnapshotFrame);
        return;
      case "subscribed":
        this.#topics.get(frame.topic as string)?.subscribed(frame.seq as number);
        return;
      case "ack": {
        const p = this.#acks.get(frame.id as number);
        if (p) {
          this.#acks.delete(frame.id as number);
          p.resolve(frame.seq as number);
        }
        return;
      }
      case "error":
        this.#serverError(frame);
        return;
      default:
        return; // unknown types are ignored, for forward compatibility
    }
  }

  #chunk(frame: Record<string, unknown>): void {
    const data = this.#chunks.push(frame);
    if (data === undefined) return;
    this.#stats.chunkedFrames++;
    let inner: unknown;
    try {
      inner = this.#codec.decode(data);
    } catch (err) {
      this.#events.emit("error", {
        code: "bad_frame",
        message: `A reassembled chunked frame does not decode: ${(err as Error).message}`,
      });
      return;
    }
    this.#handle(inner, false);
  }

  #pong(id: unknown): void {
    if (typeof id !== "number") return;
    const p = this.#pings.get(id);
    if (!p) return;
    this.#pings.delete(id);
    p.resolve(performance.now() - p.sentAt);
  }

  #serverError(frame: Record<string, unknown>): void {
    const code = String(frame.code ?? "internal");
    const message = String(frame.message ?? "");
    const id = frame.id as string | number | undefined;
    const pending = typeof id === "number" ? this.#acks.get(id) : undefined;
    if (pending) {
      this.#acks.delete(id as number);
      pending.reject(new FloodgateError(code, message));
    }
    this.#events.emit("error", id === undefined ? { code, message } : { code, message, id });
  }

  #welcome(frame: Record<string, unknown>): void {
    const epoch = String(frame.epoch);
    const epochChanged = this.#epoch !== undefined && epoch !== this.#epoch;
    const previousEpoch = this.#epoch;
    this.#clientId = String(frame.clientId);
    if (typeof frame.heartbeatMs === "number" && frame.heartbeatMs > 0) {
      const changed = frame.heartbeatMs !== this.#heartbeatMs;
      this.#heartbeatMs = frame.heartbeatMs;
      if (changed) this.#startLiveness();
    }
    const since: Record<string, number> = {};
    for (const [topic, sync] of this.#topics) {
      if (sync.lastSeq !== undefined) since[topic] = sync.lastSeq;
      sync.beginRound(epochChanged);
    }
    this.#epoch = epoch;
    this.#welcomed = true;
    const resumed = this.#everWelcomed;
    this.#everWelcomed = true;
    this.#attempt = 0;
    const topics = [...this.#topics.keys()];
    if (topics.length > 0) {
      const sub: Record<string, unknown> = { type: "subscribe", topics };
      if (Object.keys(since).length > 0) {
        sub.since = since;
        sub.epoch = previousEpoch;
      }
      this.#send(sub);
    }
    this.#setStatus("open");
    this.#events.emit("open", {
      clientId: this.#clientId,
      epoch,
      heartbeatMs: this.#heartbeatMs,
      resumed,
      epochChanged,
      codec: this.#codec.name,
    });
  }

  async #fetchState(topic: string): Promise<FetchedState> {
    const token = this.#options.token;
    const value = typeof token === "function" ? await token() : token;
    return await fetchTopicState(this.#fetch, this.#httpBase, topic, value);
  }
}

/**
 * Connects to a Floodgate server. The connection opens (and reopens) in the
 * background; subscribe right away.
 *
 * @param url `ws://host:port/ws` (http URLs and, in browsers, relative URLs work too).
 * @throws {TypeError} on a URL that is not ws, wss, http or https.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@floodgate/floodgate/client";
 * const fg = connect("ws://localhost:8080/ws", { token: "…" });
 * fg.subscribe("sessions", (msg) => console.log(msg.seq, msg.key, msg.data));
 * fg.on("status", ({ status }) => console.log("connection", status));
 * ```
 */
export function connect(url: string | URL, options: ConnectOptions = {}): FloodgateClient {
  return new FloodgateClient(url, options);
}
