/**
 * The hub: clients, their subscriptions, and the publish → fan-out path.
 *
 * A publish goes to the bus, which gives it a seq and hands it back to every
 * instance's hub; the hub encodes it once and pushes the same encoded frame into
 * each subscriber's bounded {@linkcode SendQueue}. Queues are written by the
 * {@linkcode DrainScheduler} under per-client flow control, so a client that
 * reads slowly only ever fills its own queue.
 *
 * @module
 */
import { PatternPermissions, type Permissions } from "../auth/permissions.ts";
import { type Bus, BusUnavailableError, type Envelope, type TopicSnapshot } from "../bus/bus.ts";
import type { KeyedRateLimiter } from "../limits/keyed_rate_limiter.ts";
import type { Logger } from "../log/logger.ts";
import { CloseCode, closeReason } from "../protocol/codes.ts";
import { encodeError, encodeWelcome } from "../protocol/encode.ts";
import type { CodecName } from "../protocol/codec.ts";
import type { SubscribeFrame } from "../protocol/frames.ts";
import type { ClientLevel } from "../protocol/subprotocol.ts";
import { decodeWirePing } from "../protocol/wire_ping.ts";
import type { PublishInput } from "../protocol/parse.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import type { GapRange } from "../queue/gap_range.ts";
import type { SendQueueOptions } from "../queue/send_queue.ts";
import type { ServerSocket } from "../transport/socket.ts";
import { ClientSession } from "./client_session.ts";
import type { ClientStats } from "./client_stats.ts";
import type { FlowOptions } from "./flow_gate.ts";
import { type Delivery, toDelivery } from "./delivery.ts";
import { DrainScheduler } from "./drain_scheduler.ts";
import { createDrainContexts, type DrainContext, type DrainContexts } from "./drain_contexts.ts";
import { Inbound } from "./inbound.ts";
import { InboundReassembly } from "./inbound_reassembly.ts";
import { type SnapshotBytes, SnapshotCache } from "./snapshot_cache.ts";
import type { CompressionStats, FrameCompressor } from "./frame_compressor.ts";
import { Subscription } from "./subscription.ts";
import { type SyncContext, syncSubscription } from "./topic_sync.ts";
import { HubCounters } from "./hub_counters.ts";
import { NaiveBroadcaster } from "./naive_broadcaster.ts";

/** How the hub delivers. */
export type DeliveryMode = "queue" | "naive";

/** Options of {@linkcode Hub}. */
export interface HubOptions {
  bus: Bus;
  logger: Logger;
  /** @default {"queue"} */
  mode?: DeliveryMode;
  /** See {@linkcode DrainScheduler}. @default {0} */
  flushMs?: number;
  /** Per-client queue limits and ladder. */
  queue?: Omit<SendQueueOptions, "coalesce" | "now">;
  /** Per-client flow control. */
  flow?: Partial<FlowOptions>;
  /** @default {15000} */
  heartbeatMs?: number;
  /** @default {10000} */
  heartbeatTimeoutMs?: number;
  /** Largest inbound frame; larger closes with 1009. @default {1048576} */
  maxInboundBytes?: number;
  /** Most topics one connection may subscribe to. @default {1000} */
  maxTopicsPerClient?: number;
  /** Frames per second one connection may send (bursts of twice that); 0 = no limit. @default {0} */
  maxInboundRate?: number;
  /** Publish rate per identity, shared with the HTTP API. @default no limit */
  publishLimiter?: KeyedRateLimiter;
  /** A fan-out slower than this is logged as a warning. @default {100} */
  slowFanoutMs?: number;
  /**
   * Frames larger than this go out in chunks (`chunked.*`) of at most this
   * size; 0 sends every frame whole. Not used in naive mode.
   * @default {65536}
   */
  chunkBytes?: number;
  /** Largest chunked message a client may send. @default {4194304} */
  maxMessageBytes?: number;
  /** Most bytes of unfinished chunked messages held for all clients. @default {67108864} */
  maxReassemblyBytes?: number;
  /** A chunked message not finished within this many ms is dropped. @default {30000} */
  reassemblyTimeoutMs?: number;
  /** Most bytes of shared snapshot frames kept. @default {33554432} */
  snapshotCacheBytes?: number;
  /** Compresses frames for clients that negotiated permessage-deflate. */
  compressor?: FrameCompressor;
  /** Clock for publish timestamps, epoch ms with sub-ms precision. */
  now?: () => number;
  /** True while publishes must be refused (over the memory budget). @default never */
  overloaded?: () => boolean;
}

/** Hub-wide numbers for `/stats` and `/metrics`. */
export interface HubSnapshot {
  mode: DeliveryMode;
  clients: number;
  topics: number;
  blockedClients: number;
  /** Clients reading more than `--max-lag` behind. */
  laggedClients: number;
  counters: ReturnType<HubCounters["toJSON"]>;
  /** Present when frames are compressed. */
  compression: CompressionStats | undefined;
}

const DEFAULT_FLOW: FlowOptions = {
  highWaterBytes: 1 << 20,
  lowWaterBytes: 256 << 10,
  maxInflightBytes: 1 << 20,
  maxFrameBytes: 64 << 10,
  maxLagMs: 3000,
};

function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Owns clients and subscriptions and runs the fan-out. Engines report
 * connections through {@linkcode Hub.connect}; the HTTP API calls
 * {@linkcode Hub.publish}.
 */
export class Hub {
  readonly mode: DeliveryMode;
  readonly counters = new HubCounters();
  readonly #bus: Bus;
  readonly #log: Logger;
  readonly #flow: FlowOptions;
  readonly #queueOptions: SendQueueOptions;
  readonly #heartbeatMs: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #maxTopicsPerClient: number;
  readonly #maxInboundRate: number;
  readonly #slowFanoutMs: number;
  readonly #now: () => number;
  readonly #overloaded: () => boolean;
  readonly #scheduler: DrainScheduler<ClientSession>;
  readonly #naive: NaiveBroadcaster | undefined;
  readonly #drainContexts: DrainContexts;
  readonly #compressor: FrameCompressor | undefined;
  readonly #inbound: Inbound;
  readonly #clients = new Map<string, ClientSession>();
  /** Per topic, its local subscribers and their subscription. */
  readonly #subscribers = new Map<string, Map<ClientSession, Subscription>>();
  readonly #deliveries = new WeakMap<Envelope, Delivery>();
  /** Per watched topic: resolves once the bus delivers it. */
  readonly #watching = new Map<string, Promise<void>>();
  readonly #pageSize: number;
  readonly #sync: SyncContext;
  #nextClient = 0;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #closing = false;
  readonly #snapshots: SnapshotCache;
  /** Publishes waiting for the bus. */
  readonly #publishing = new Set<Promise<Envelope[]>>();

  constructor(options: HubOptions) {
    this.mode = options.mode ?? "queue";
    this.#bus = options.bus;
    this.#log = options.logger;
    this.#flow = { ...DEFAULT_FLOW, ...options.flow };
    const flushMs = options.flushMs ?? 0;
    this.#queueOptions = { ...options.queue, coalesce: flushMs > 0 ? "always" : "overflow" };
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 10_000;
    this.#maxTopicsPerClient = options.maxTopicsPerClient ?? 1000;
    this.#maxInboundRate = options.maxInboundRate ?? 0;
    this.#slowFanoutMs = options.slowFanoutMs ?? 100;
    this.#now = options.now ?? preciseNow;
    this.#overloaded = options.overloaded ?? (() => false);
    this.#scheduler = new DrainScheduler({ flushMs });
    this.#naive = this.mode === "naive"
      ? new NaiveBroadcaster({ highWaterBytes: this.#flow.highWaterBytes })
      : undefined;
    const counters = this.counters;
    const now = this.#now;
    const onFrame: DrainContext["onFrame"] = (frame) => counters.frameSent(frame, now());
    const onChunked: DrainContext["onChunked"] = (frames) => {
      counters.chunkedSent++;
      counters.chunkFramesSent += frames;
    };
    this.#compressor = options.compressor;
    this.#drainContexts = createDrainContexts({
      chunkBytes: this.mode === "naive" ? 0 : options.chunkBytes ?? 64 << 10,
      compressor: this.#compressor,
      onFrame,
      onChunked,
    });
    this.#inbound = new Inbound(
      {
        subscribe: (session, frame) => this.#subscribe(session, frame),
        unsubscribe: (session, topic) => this.#unsubscribe(session, topic),
        publish: (inputs) => this.publish(inputs),
        control: (session, frame) => this.#control(session, frame),
        reject: (session, err) => this.#reject(session, err),
        close: (session, code, reason) => this.close(session, code, reason),
        wake: (session) => this.#scheduler.wake(session),
        decodeBinary: (session, bytes) =>
          this.#contextOf(session.level, session.codec).builder.codec.decode(bytes),
      },
      {
        maxInboundBytes: options.maxInboundBytes ?? 1 << 20,
        maxInboundRate: this.#maxInboundRate,
        publishLimiter: options.publishLimiter,
      },
      new InboundReassembly({
        maxMessageBytes: options.maxMessageBytes,
        maxReassemblyBytes: options.maxReassemblyBytes,
        timeoutMs: options.reassemblyTimeoutMs,
      }),
      this.counters,
    );
    this.#bus.onMessage((env) => this.#fanOut(env));
    this.#bus.onGap((gap) => this.#busGap(gap));
    this.#bus.onEpochChange((epoch) => this.#epochChanged(epoch));
    this.#pageSize = Math.max(
      1,
      Math.min(256, Math.floor((options.queue?.maxMessages ?? 1024) / 2)),
    );
    this.#snapshots = new SnapshotCache({ maxBytes: options.snapshotCacheBytes ?? 32 << 20 });
    this.#sync = {
      bus: this.#bus,
      pageSize: this.#pageSize,
      ready: (topic) => this.#watching.get(topic) ?? Promise.resolve(),
      deliveryOf: (env) => this.#deliveryOf(env),
      snapshotOf: (topic, snap) => this.#snapshots.of(topic, snap),
      wake: (session) => this.#afterEnqueue(session),
      onReplayed: (n) => (this.counters.replayed += n),
    };
    this.#heartbeatTimer = setInterval(
      () => this.#heartbeatTick(),
      Math.max(50, Math.min(1000, this.#heartbeatMs / 4, this.#flow.maxLagMs / 4)),
    );
  }

  /** The bus's epoch, sent in `welcome`. */
  get epoch(): string {
    return this.#bus.epoch;
  }

  /** Milliseconds between server pings. */
  get heartbeatMs(): number {
    return this.#heartbeatMs;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Publishes messages (already validated). Resolves with their envelopes once
   * the bus assigned seqs; delivery to local subscribers is already queued then.
   */
  publish(inputs: readonly PublishInput[]): Promise<Envelope[]> {
    if (this.#closing) {
      // Refused before a seq is taken: the queues are being flushed for the last time.
      return Promise.reject(
        new ProtocolError(
          "unavailable",
          "Nothing was published: the server is shutting down; retry on another instance",
        ),
      );
    }
    const pending = this.#publish(inputs);
    this.#publishing.add(pending);
    const settled = () => this.#publishing.delete(pending);
    pending.then(settled, settled);
    return pending;
  }

  async #publish(inputs: readonly PublishInput[]): Promise<Envelope[]> {
    // Deletes free memory: they pass even when overloaded.
    if (this.#overloaded() && inputs.some((i) => i.op !== "delete")) {
      throw new ProtocolError(
        "overloaded",
        "Nothing was published: the server is over its memory budget (--memory-budget); retry shortly",
      );
    }
    const ts = this.#now();
    let envelopes: Envelope[];
    try {
      envelopes = await this.#bus.publish(inputs.map((i) => ({ ...i, ts })));
    } catch (err) {
      if (err instanceof BusUnavailableError) {
        throw new ProtocolError(
          "unavailable",
          `Nothing was published: ${err.message}; retry shortly`,
        );
      }
      throw err;
    }
    this.counters.published += envelopes.length;
    return envelopes;
  }

  /**
   * Loads the codec called `name` if it is not yet (MessagePack is imported on
   * the first client that asks for it: a server whose clients all speak JSON
   * never pays for it). Call before {@linkcode Hub.connect} with that codec.
   */
  async loadCodec(name: CodecName): Promise<void> {
    if (name !== "msgpack" || this.#drainContexts.msgpack !== undefined) return;
    const { msgpackCodec } = await import("../protocol/codec.ts");
    this.#drainContexts.msgpack ??= this.#drainContexts.add(msgpackCodec());
  }

  #contextOf(level: ClientLevel, codec: CodecName): DrainContext {
    if (level === "plain" || codec === "json") {
      return level === "plain" ? this.#drainContexts.plain : this.#drainContexts.json;
    }
    const ctx = this.#drainContexts.msgpack;
    if (ctx === undefined) {
      throw new TypeError(
        'The "msgpack" codec is not loaded: await hub.loadCodec("msgpack") first',
      );
    }
    return ctx;
  }

  /** The keyed state of a topic. */
  snapshot(topic: string): Promise<TopicSnapshot> {
    return this.#bus.snapshot(topic);
  }

  /**
   * The keyed state of a topic as its shared `snapshot` frame (undefined
   * without keyed state), with the seq it reflects: encoded once per topic
   * and seq for every subscriber and state reader.
   */
  async snapshotFrame(topic: string): Promise<{ seq: number; bytes: SnapshotBytes | undefined }> {
    const snap = await this.#bus.snapshot(topic);
    return { seq: snap.seq, bytes: this.#snapshots.of(topic, snap) };
  }

  /** Bytes of snapshot frames cached, for the memory ledger. */
  snapshotCacheBytes(): number {
    return this.#snapshots.heldBytes;
  }

  /**
   * Registers a new connection. Call from the engine's `onOpen`.
   *
   * @param info.topics topics to subscribe to at once (from `?topics=`).
   * @param info.codec the wire format the client chose by subprotocol. @default {"json"}
   * @param info.level `"plain"` when it chose no `floodgate.v1.*` subprotocol. @default {"plain"}
   */
  connect(
    socket: ServerSocket,
    info: {
      remote: string;
      /** The client's address alone (per-address limits). @default {info.remote} */
      address?: string;
      topics?: string[];
      permissions?: Permissions;
      codec?: CodecName;
      level?: ClientLevel;
    },
  ): ClientSession {
    const id = `c${(++this.#nextClient).toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
    const level = info.level ?? "plain";
    const session = new ClientSession({
      id,
      remote: info.remote,
      address: info.address,
      socket,
      flow: this.#flow,
      queue: this.#queueOptions,
      ctx: this.#contextOf(level, info.codec ?? "json"),
      permissions: info.permissions ?? PatternPermissions.open(`addr:${info.remote}`),
      maxInboundRate: this.#maxInboundRate,
      level,
    });
    this.#clients.set(id, session);
    this.counters.connections++;
    this.#log.info("client.connect", { clientId: id, remote: info.remote });
    this.#control(
      session,
      encodeWelcome({ clientId: id, epoch: this.#bus.epoch, heartbeatMs: this.#heartbeatMs }),
    );
    if (info.topics && info.topics.length > 0) {
      this.#subscribe(session, { type: "subscribe", topics: info.topics });
    }
    return session;
  }

  /** Handles one inbound message. Call from the engine's `onMessage`. */
  receive(session: ClientSession, data: string | Uint8Array): void {
    this.#inbound.receive(session, data);
  }

  /**
   * Handles a WebSocket pong (RFC 6455). Call from the engine's `onPong`. A pong
   * carrying one of the byte offsets the server pinged confirms the client read
   * that far; any other pong is ignored.
   */
  pong(session: ClientSession, data: Uint8Array): void {
    const offset = decodeWirePing(data);
    if (offset === undefined || session.progressKind !== "wire-ping") return;
    if (session.onPong(offset, Date.now())) this.#scheduler.wake(session);
  }

  /** Forgets a connection the engine reports closed. Call from the engine's `onClose`. */
  disconnected(session: ClientSession, code: number, reason: string): void {
    session.markSocketClosed();
    if (session.closed) return;
    this.#remove(session, code, reason || "peer closed", "peer");
  }

  /** Closes a connection with `code`; removal is immediate, never waiting on the peer. */
  close(session: ClientSession, code: number, reason?: string): void {
    if (session.closed) return;
    const text = reason ?? closeReason[code as CloseCode] ?? "closed";
    this.#remove(session, code, text, "server");
    try {
      session.socket.close(code, text.slice(0, 120));
    } catch (err) {
      this.#log.debug("client.close_failed", { clientId: session.id, error: err });
    }
  }

  /** Drains every client with something queued now, instead of at the end of the turn. */
  flush(): void {
    this.#scheduler.flushNow();
  }

  /** Per-client numbers for `/stats`. */
  clientStats(): ClientStats[] {
    const now = Date.now();
    return [...this.#clients.values()].map((s) => s.stats(now));
  }

  /** Bytes queued for all clients (messages and control frames), for the memory ledger. */
  queuedBytes(): number {
    let bytes = 0;
    for (const session of this.#clients.values()) bytes += session.queue.bytes;
    return bytes;
  }

  /** Bytes of unfinished chunked messages clients are sending, for the memory ledger. */
  reassemblyBytes(): number {
    return this.#inbound.reassemblyBytes;
  }

  /**
   * Gives up about `bytes` of queued memory, largest queues first: each is
   * coalesced to the latest per key and its oldest messages dropped, with gaps
   * (see {@linkcode SendQueue.shed}). Control frames stay.
   *
   * @returns the bytes let go of.
   */
  shed(bytes: number): number {
    const sessions = [...this.#clients.values()].sort((a, b) => b.queue.bytes - a.queue.bytes);
    let freed = 0;
    for (let i = 0; i < sessions.length && freed < bytes; i++) {
      const session = sessions[i];
      const given = session.queue.shed(Math.max(0, session.queue.bytes - (bytes - freed)));
      if (given > 0) {
        freed += given;
        this.counters.shedBytes += given;
        this.#afterEnqueue(session);
      }
    }
    return freed;
  }

  /** Hub-wide numbers. */
  snapshotStats(): HubSnapshot {
    let laggedClients = 0;
    for (const session of this.#clients.values()) if (session.lagged) laggedClients++;
    return {
      mode: this.mode,
      clients: this.#clients.size,
      topics: this.#subscribers.size,
      blockedClients: this.#scheduler.blockedCount,
      laggedClients,
      counters: this.counters.toJSON(this.#clients.values()),
      compression: this.#compressor?.stats(),
    };
  }

  /**
   * Graceful shutdown: refuses new publishes (`unavailable`), waits for those
   * already accepted, flushes queues for up to `deadlineMs`, then closes every
   * client with 1001.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#heartbeatTimer);
    const until = Date.now() + deadlineMs;
    // Publishes accepted before the shutdown began are delivered before the last flush.
    let waited: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#publishing]),
      new Promise((r) => (waited = setTimeout(r, deadlineMs))),
    ]);
    clearTimeout(waited);
    this.#scheduler.flushNow();
    while (Date.now() < until && [...this.#clients.values()].some((s) => !s.idle)) {
      for (const s of this.#clients.values()) s.drain();
      await new Promise((r) => setTimeout(r, 10));
    }
    const sessions = [...this.#clients.values()];
    for (const s of sessions) this.close(s, CloseCode.GoingAway, closeReason[CloseCode.GoingAway]);
    this.#scheduler.stop();
    // Let the closing handshakes finish, so clients see 1001 from us, not a dropped connection.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(sessions.map((s) => s.socketClosed)),
      new Promise((r) => (timer = setTimeout(r, Math.max(100, until - Date.now())))),
    ]);
    clearTimeout(timer);
  }

  #subscribe(session: ClientSession, frame: SubscribeFrame): void {
    const overLimit: string[] = [];
    for (const topic of frame.topics) {
      // A refusal may have closed the session (its queue is full): nothing more for it.
      if (session.closed) return;
      if (session.subscriptions.has(topic)) continue;
      if (!session.permissions.canSubscribe(topic)) {
        this.counters.reject("forbidden");
        this.#reject(
          session,
          new ProtocolError("forbidden", `Your token does not allow subscribing to "${topic}"`),
        );
        continue;
      }
      if (session.subscriptions.size >= this.#maxTopicsPerClient) {
        overLimit.push(topic);
        continue;
      }
      const sub = new Subscription(topic, this.#pageSize * 4);
      session.subscriptions.set(topic, sub);
      let subs = this.#subscribers.get(topic);
      if (!subs) {
        subs = new Map();
        this.#subscribers.set(topic, subs);
        this.#watching.set(topic, this.#bus.watch(topic));
      }
      subs.set(session, sub);
      if (frame.since?.[topic] !== undefined) this.counters.resumes++;
      syncSubscription(
        session,
        sub,
        { since: frame.since?.[topic], epoch: frame.epoch },
        this.#sync,
      )
        .catch((err) => {
          this.#log.error("subscribe.failed", { clientId: session.id, topic, error: err });
          this.#unsubscribe(session, topic);
          this.#reject(
            session,
            new ProtocolError("internal", `Could not subscribe to "${topic}": ${err}; try again`),
          );
        });
    }
    if (overLimit.length > 0 && !session.closed) {
      this.counters.reject("topic_limit");
      const named = overLimit.slice(0, 3).map((t) => `"${t}"`).join(", ");
      const more = overLimit.length > 3 ? ` and ${overLimit.length - 3} more` : "";
      this.#reject(
        session,
        new ProtocolError(
          "limit_reached",
          `Cannot subscribe to ${named}${more}: a connection may hold at most ${this.#maxTopicsPerClient} topics (--max-topics-per-client); unsubscribe from some first`,
        ),
      );
    }
  }

  #unsubscribe(session: ClientSession, topic: string): void {
    if (!session.subscriptions.delete(topic)) return;
    const subs = this.#subscribers.get(topic);
    if (!subs) return;
    subs.delete(session);
    if (subs.size === 0) {
      this.#subscribers.delete(topic);
      this.#watching.delete(topic);
      this.#bus.unwatch(topic);
    }
  }

  #fanOut(env: Envelope): void {
    const subs = this.#subscribers.get(env.topic);
    if (!subs || subs.size === 0) return;
    const started = performance.now();
    const delivery = this.#deliveryOf(env);
    if (this.#naive) {
      const targets: ClientSession[] = [];
      for (const [session, sub] of subs) {
        if (sub.live) targets.push(session);
        else sub.hold(delivery);
      }
      this.#naive.broadcast(delivery.frame, targets).then((sent) => {
        this.counters.naiveDelivered += sent;
        this.#warnIfSlow(env, performance.now() - started, subs.size);
      });
      return;
    }
    for (const [session, sub] of subs) {
      if (!sub.live) {
        sub.hold(delivery);
        continue;
      }
      const removed = session.queue.push(delivery);
      if (removed > 0 || session.queue.overflowing) this.#afterEnqueue(session);
      else this.#scheduler.mark(session);
    }
    this.#warnIfSlow(env, performance.now() - started, subs.size);
  }

  /** The encoded form of an envelope, built once and shared by fan-out and replays. */
  #deliveryOf(env: Envelope): Delivery {
    let d = this.#deliveries.get(env);
    if (!d) {
      d = toDelivery(env);
      this.#deliveries.set(env, d);
    }
    return d;
  }

  #warnIfSlow(env: Envelope, ms: number, subscribers: number): void {
    this.counters.observeFanout(ms);
    if (ms > this.#slowFanoutMs) {
      this.#log.warn("fanout.slow", {
        topic: env.topic,
        seq: env.seq,
        ms: Math.round(ms * 10) / 10,
        subscribers,
      });
    }
  }

  /** The bus lost its history: every client's seqs are void; they reconnect and resume. */
  #epochChanged(epoch: string): void {
    this.#log.warn("bus.epoch_changed", { epoch, clients: this.#clients.size });
    this.#snapshots.clear();
    for (const session of [...this.#clients.values()]) {
      this.close(session, CloseCode.ServiceRestart);
    }
  }

  #busGap(gap: GapRange): void {
    const subs = this.#subscribers.get(gap.topic);
    if (!subs) return;
    this.#log.warn("bus.gap", { ...gap });
    for (const [session, sub] of subs) {
      if (!sub.live) {
        sub.hold(gap);
        continue;
      }
      session.queue.pushGap(gap);
      this.#afterEnqueue(session);
    }
  }

  /** After anything was queued for a session: apply the ladder's verdict and schedule a drain. */
  #afterEnqueue(session: ClientSession): void {
    if (session.queue.health() === "slow") {
      this.#closeSlow(session);
      return;
    }
    if (this.#naive) session.drain();
    else this.#scheduler.mark(session);
  }

  /** Closes a client that does not take what is waiting for it: 4008, counted and logged. */
  #closeSlow(session: ClientSession, reason?: string): void {
    this.counters.slowDisconnects++;
    this.#log.warn("client.slow", {
      clientId: session.id,
      ...(reason !== undefined && { reason }),
      queued: session.queue.messages,
      queuedBytes: session.queue.bytes,
      dropped: session.queue.droppedTotal,
      inflightBytes: session.inflightBytes,
    });
    this.close(session, CloseCode.SlowConsumer, reason);
  }

  #control(session: ClientSession, frame: string): void {
    session.pushControl(frame);
    this.#afterEnqueue(session);
  }

  #reject(session: ClientSession, err: unknown): void {
    if (session.closed) return;
    this.counters.errors++;
    if (err instanceof ProtocolError) {
      this.#log.debug("client.error", {
        clientId: session.id,
        code: err.code,
        message: err.message,
      });
      this.#control(
        session,
        encodeError({
          code: err.code,
          message: err.message,
          ...(err.id !== undefined && { id: err.id }),
        }),
      );
      return;
    }
    this.#log.error("client.internal_error", { clientId: session.id, error: err });
    this.#control(session, encodeError({ code: "internal", message: "Internal error" }));
  }

  #remove(session: ClientSession, code: number, reason: string, by: "server" | "peer"): void {
    session.closed = true;
    session.reassembly?.clear();
    for (const topic of [...session.subscriptions.keys()]) this.#unsubscribe(session, topic);
    this.#clients.delete(session.id);
    this.#scheduler.forget(session);
    this.counters.disconnected(code, session, by === "peer" ? "client" : "server");
    this.#log.info("client.disconnect", {
      clientId: session.id,
      code,
      reason,
      by,
      connectedMs: Date.now() - session.connectedAt,
      sent: session.sentMessages,
      dropped: session.queue.droppedTotal,
    });
  }

  /** The 4009 reason: which answer did not come. */
  #silenceReason(session: ClientSession): string {
    const asked = session.progressKind === "app-ping"
      ? "pong {id} answering the server's ping frame"
      : "WebSocket pong answering the server's ping";
    return `heartbeat timeout: no ${asked} within ${this.#heartbeatTimeoutMs} ms`;
  }

  #heartbeatTick(): void {
    const now = Date.now();
    for (const session of [...this.#clients.values()]) {
      const expiresAt = session.permissions.expiresAt;
      if (expiresAt !== undefined && expiresAt <= now) {
        this.close(session, CloseCode.TokenExpired);
        continue;
      }
      const beat = session.heartbeat(now, this.#heartbeatMs, this.#heartbeatTimeoutMs);
      if (beat === "dead") {
        this.counters.heartbeatTimeouts++;
        this.close(session, CloseCode.HeartbeatTimeout, this.#silenceReason(session));
        continue;
      }
      if (beat === "slow") {
        this.#closeSlow(
          session,
          `slow consumer: confirmed none of ${session.inflightBytes} bytes in ${this.#heartbeatTimeoutMs} ms`,
        );
        continue;
      }
      // A queue that stays full is judged on its own clock, also when nothing more is published.
      if (session.queue.health() === "slow") {
        this.#closeSlow(session);
        continue;
      }
      this.#inbound.expire(session, now);
    }
  }
}
