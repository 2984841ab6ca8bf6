import type { Permissions } from "../auth/permissions.ts";
import { TokenBucket } from "../limits/token_bucket.ts";
import type { ChunkAssembler } from "../protocol/chunk_assembler.ts";
import type { CodecName } from "../protocol/codec.ts";
import { encodePing } from "../protocol/encode.ts";
import type { ClientLevel } from "../protocol/subprotocol.ts";
import { encodeWirePing } from "../protocol/wire_ping.ts";
import { SendQueue, type SendQueueOptions, type TakeHold } from "../queue/send_queue.ts";
import type { ServerSocket } from "../transport/socket.ts";
import type { Delivery } from "./delivery.ts";
import type { BuiltFrame, FrameBuilder } from "./frame_builder.ts";
import type { FrameCompressor } from "./frame_compressor.ts";
import {
  BufferedProgress,
  PingLedger,
  type ProgressKind,
  type ReadProgress,
} from "./read_progress.ts";
import { ReadWindow } from "./read_window.ts";
import type { Subscription } from "./subscription.ts";

/** Flow-control settings of one session. */
export interface FlowOptions {
  /**
   * Stop writing while the engine holds more than this many unsent bytes.
   * @default {1048576}
   */
  highWaterBytes: number;
  /**
   * Resume writing once the engine holds at most this many unsent bytes.
   * @default {262144}
   */
  lowWaterBytes: number;
  /**
   * Stop writing while more than this many sent bytes are not yet confirmed by a
   * `pong` (they sit in kernel buffers or the client has not read them). The
   * limit in force is smaller for a slow reader: what it reads in half of
   * `maxLagMs` (see {@linkcode ReadWindow}).
   * @default {1048576}
   */
  maxInflightBytes: number;
  /**
   * Largest batch frame built from queued messages.
   * @default {65536}
   */
  maxFrameBytes: number;
  /**
   * How far behind a client may read. Its in-flight window holds what it reads
   * in half of this. Once its oldest unanswered `ping` or its oldest queued
   * message is older than this, it is lagged: its queue keeps only the latest
   * message per key and, while it still reads, unkeyed messages older than half
   * of this are dropped (with gaps), so what it reads stays about this recent.
   * While the unanswered ping is that old, nothing more is written. Pings go
   * out at least every third of this while data flows.
   * @default {3000}
   */
  maxLagMs: number;
}

/** Per-client numbers shown in `/stats`. */
export interface ClientStats {
  id: string;
  remote: string;
  connectedAt: string;
  connectedMs: number;
  topics: string[];
  queue: { messages: number; items: number; bytes: number };
  sent: { messages: number; frames: number; bytes: number; gaps: number };
  dropped: number;
  coalesced: number;
  bufferedAmount: number;
  inflightBytes: number;
  /** Unconfirmed bytes allowed now: what the client reads in half of `--max-lag`. */
  windowBytes: number;
  blocked: boolean;
  /** Reads more than `--max-lag` behind (see {@linkcode FlowOptions.maxLagMs}). */
  lagged: boolean;
  slow: boolean;
  lastPongAgoMs: number | null;
  /** `plain` (no `floodgate.v1.*` subprotocol) or `protocol`. */
  level: ClientLevel;
  /** What its flow control runs on: app `ping`s, WebSocket pings, or the engine's unsent bytes. */
  progress: ProgressKind;
  codec: CodecName;
  /** Whether frames go out compressed (permessage-deflate negotiated). */
  deflate: boolean;
  /** The chunked message being sent: chunk frames sent of its total. */
  chunked: { sent: number; total: number } | null;
}

/** Shared by the sessions of one codec: the frame builder, the compressor and the per-frame hook. */
export interface DrainContext {
  /** Builds and chunks frames in the sessions' codec. */
  builder: FrameBuilder;
  /** Compresses frames for sockets that negotiated permessage-deflate. */
  compressor?: FrameCompressor;
  /** Called with each frame written. */
  onFrame(frame: BuiltFrame): void;
  /** Called when a chunked message was sent whole, with its number of chunk frames. */
  onChunked(frames: number): void;
}

/**
 * What {@linkcode ClientSession.drain} left: `"idle"` (nothing to send),
 * `"blocked"` (flow control stopped it; retry later) or `"more"` (it sent one
 * chunk of a large message and yields; drain again next turn).
 */
export type DrainResult = "idle" | "blocked" | "more";

/** A large frame being sent in chunks. */
interface Transfer {
  readonly frames: readonly BuiltFrame[];
  next: number;
  /** What the queue keeps back meanwhile; undefined keeps everything back. */
  readonly hold: TakeHold | undefined;
}

/** Everything a {@linkcode ClientSession} is made of. */
export interface ClientSessionOptions {
  id: string;
  remote: string;
  socket: ServerSocket;
  flow: FlowOptions;
  queue: SendQueueOptions;
  /** Shared by the sessions of one codec and level. */
  ctx: DrainContext;
  permissions: Permissions;
  /** Frames per second the client may send; 0 = no limit. */
  maxInboundRate: number;
  /** What the client owes the server (see {@linkcode ClientLevel}). @default {"protocol"} */
  level?: ClientLevel;
  /** Clock, epoch ms. @default {Date.now} */
  now?: () => number;
}

/**
 * What {@linkcode ClientSession.heartbeat} found: `"ok"`; `"slow"` when what
 * was sent stayed unconfirmed for the heartbeat timeout while more was waiting
 * for the client on the server (in its queue, or held back by flow control), or
 * while it answered other probes (it reads, but is that far behind): close
 * 4008; `"dead"` when a probe stayed unanswered that long, nothing came back
 * and everything had been handed to its socket: close 4009.
 */
export type Heartbeat = "ok" | "slow" | "dead";

/**
 * One connected client: its socket, its send queue, its subscriptions and its
 * flow control. The hub owns sessions; a session never touches another.
 *
 * Its flow control runs on a {@linkcode ReadProgress}: app-level `ping {id}`
 * for protocol-aware clients, RFC 6455 pings for plain ones where the engine
 * has them, the engine's unsent bytes otherwise.
 */
export class ClientSession {
  readonly id: string;
  readonly remote: string;
  readonly connectedAt: number;
  readonly subscriptions = new Map<string, Subscription>();
  readonly queue: SendQueue<Delivery>;
  /** What this client may do. */
  readonly permissions: Permissions;
  /** Limits the frames this client sends, or undefined for no limit. */
  readonly inbound: TokenBucket | undefined;
  /** What the client owes the server. */
  readonly level: ClientLevel;
  closed = false;
  /** Owned by the hub's drain scheduler. */
  drainScheduled = false;
  /** Resolves once the engine reports the socket closed (whoever closed it). */
  readonly socketClosed: Promise<void>;
  /** Called by the hub when the engine reports the socket closed. */
  readonly markSocketClosed: () => void;

  /** The connection's wire format. */
  readonly codec: CodecName;
  /** Reassembles the chunked messages the client sends; made on first use. */
  reassembly: ChunkAssembler | undefined;

  readonly #socket: ServerSocket;
  readonly #flow: FlowOptions;
  readonly #ctx: DrainContext;
  readonly #now: () => number;
  /** Set when frames go out compressed. */
  readonly #compressor: FrameCompressor | undefined;
  /** Most bytes of queued messages in one frame: within the frame limit and the chunk limit. */
  readonly #batchBytes: number;
  /** Large frames being sent in chunks, in order; the first one is sending. */
  readonly #transfers: Transfer[] = [];
  /** Unconfirmed bytes above which the next chunk waits for a `pong`. */
  readonly #transferWindow: number;
  /** What the client has read of what was written. */
  readonly #progress: ReadProgress;
  #blocked = false;
  /** Reads more than `maxLagMs` behind, in flight or in its queue (see {@linkcode FlowOptions.maxLagMs}). */
  #lagged = false;
  /** What it was sent went unconfirmed for longer than `maxLagMs`: nothing more is written for now. */
  #inflightLagged = false;

  #sentMessages = 0;
  #sentFrames = 0;
  #sentGaps = 0;
  /** When history was last queued for replay: replayed messages count as queued then. */
  #replayAt = -Infinity;

  constructor(options: ClientSessionOptions) {
    const { socket, flow, ctx } = options;
    this.id = options.id;
    this.remote = options.remote;
    this.permissions = options.permissions;
    this.inbound = options.maxInboundRate > 0 ? new TokenBucket(options.maxInboundRate) : undefined;
    this.level = options.level ?? "protocol";
    this.#now = options.now ?? Date.now;
    this.connectedAt = this.#now();
    this.#socket = socket;
    this.#flow = flow;
    this.#ctx = ctx;
    this.codec = ctx.builder.codec.name;
    this.#compressor = socket.sendDeflated ? ctx.compressor : undefined;
    const { chunkBytes, codec } = ctx.builder;
    // At most two chunks unread ahead of anything queued later, however slow the link.
    this.#transferWindow = Math.min(flow.maxInflightBytes, 2 * chunkBytes);
    this.#progress = this.#readProgress(socket, flow);
    // Every part of a batch is at least 32 bytes, so its separators take at most chunkBytes / 32.
    this.#batchBytes = chunkBytes === Infinity
      ? flow.maxFrameBytes
      : Math.min(flow.maxFrameBytes, chunkBytes - codec.batchOverhead - chunkBytes / 32);
    this.queue = new SendQueue<Delivery>(options.queue);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.socketClosed = promise;
    this.markSocketClosed = resolve;
  }

  #readProgress(socket: ServerSocket, flow: FlowOptions): ReadProgress {
    const window = new ReadWindow({ maxBytes: flow.maxInflightBytes, maxLagMs: flow.maxLagMs });
    const openedAt = this.connectedAt;
    if (this.level === "protocol") {
      const codec = this.#ctx.builder.codec;
      const probe = this.codec === "json"
        ? (id: number) => socket.send(encodePing(id))
        : (id: number) => socket.send(codec.encode({ type: "ping", id }));
      return new PingLedger({ kind: "app-ping", probe, window, openedAt });
    }
    const ping = socket.ping?.bind(socket);
    if (ping === undefined) return new BufferedProgress(socket, flow.highWaterBytes);
    const probe = (offset: number) => ping(encodeWirePing(offset));
    return new PingLedger({ kind: "wire-ping", probe, window, openedAt });
  }

  /** The socket, for engines' close and direct sends in naive mode. */
  get socket(): ServerSocket {
    return this.#socket;
  }

  /** What its flow control runs on. */
  get progressKind(): ProgressKind {
    return this.#progress.kind;
  }

  /** Bytes sent but not yet confirmed read. */
  get inflightBytes(): number {
    return this.#progress.inflightBytes;
  }

  /** Whether the client reads more than `maxLagMs` behind (see {@linkcode FlowOptions.maxLagMs}). */
  get lagged(): boolean {
    return this.#lagged;
  }

  /** Whether flow control stopped the last drain. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Messages sent so far. */
  get sentMessages(): number {
    return this.#sentMessages;
  }

  /** True when nothing is left to send: the queue is empty and no chunked message is under way. */
  get idle(): boolean {
    return this.queue.isEmpty && this.#transfers.length === 0;
  }

  /**
   * Writes queued items while flow control allows: the engine's unsent bytes stay
   * under the high-water mark and unconfirmed bytes under the read window.
   * Once stopped, writing resumes only below the low-water mark and half the
   * window.
   *
   * A frame larger than the chunk limit goes out in chunks, one `chunked.data`
   * per call and only while at most two chunks' worth of bytes are
   * unconfirmed: before each chunk, whatever was queued behind it and may pass
   * it is written (other topics' messages and gaps, control frames), so a
   * large message delays a small one by about one chunk, however slow the
   * link. Messages of the large message's topic wait for it, keeping each
   * topic in order. (Plain clients have no chunk limit: they get frames whole.)
   */
  drain(): DrainResult {
    if (this.closed) return "idle";
    let chunkSent = false;
    for (;;) {
      const transfer = this.#transfers[0];
      if (transfer !== undefined) {
        if (this.#transfers.length === 1 && transfer.hold !== undefined) {
          if (!this.#writeAround(transfer.hold)) return "blocked";
          if (this.#transfers.length > 1) continue;
        }
        if (chunkSent) return "more";
        if (
          !this.#mayWrite() ||
          this.inflightBytes > Math.min(this.#transferWindow, this.#progress.windowBytes)
        ) return "blocked";
        this.#writeChunk(transfer);
        chunkSent = true;
        continue;
      }
      if (this.queue.isEmpty) return "idle";
      if (!this.#mayWrite()) return "blocked";
      const entries = this.queue.take(this.#takeBytes());
      const frame = this.#ctx.builder.build(entries);
      if (frame.bytes > this.#ctx.builder.chunkBytes) {
        const topic = entries.length === 1 ? entries[0].message?.topic : undefined;
        this.#startTransfer(frame, topic);
      } else {
        this.#write(frame);
      }
    }
  }

  /**
   * Writes what may pass the chunked message under way.
   *
   * @returns false when flow control stopped it.
   */
  #writeAround(hold: TakeHold): boolean {
    while (!this.queue.isEmpty) {
      if (!this.#mayWrite()) return false;
      const entries = this.queue.take(this.#takeBytes(), hold);
      if (entries.length === 0) return true;
      const frame = this.#ctx.builder.build(entries);
      if (frame.bytes > this.#ctx.builder.chunkBytes) {
        // Rare (a MessagePack batch larger than its JSON): chunk it next, holding everything back.
        this.#startTransfer(frame, undefined);
        return true;
      }
      this.#write(frame);
    }
    return true;
  }

  /** Bytes of queued messages for the next frame: a batch, or what the window has left. */
  #takeBytes(): number {
    return Math.min(
      this.#batchBytes,
      Math.max(1, this.#progress.windowBytes - this.inflightBytes),
    );
  }

  #startTransfer(frame: BuiltFrame, topic: string | undefined): void {
    this.#transfers.push({
      frames: this.#ctx.builder.chunk(frame),
      next: 0,
      hold: topic === undefined
        ? undefined
        : { topics: new Set([topic]), maxCost: this.#batchBytes },
    });
  }

  /**
   * Writes the next chunk: `chunked.start` goes with the first, `chunked.end`
   * with the last; then a `ping`, whose `pong` lets the next chunk go.
   */
  #writeChunk(t: Transfer): void {
    const last = t.frames.length - 1;
    do this.#write(t.frames[t.next++]); while (t.next === 1 || t.next === last);
    this.#progress.probeIfWritten(this.#now());
    if (t.next > last) {
      this.#transfers.shift();
      this.#ctx.onChunked(t.frames.length);
    }
  }

  #write(frame: BuiltFrame): void {
    const compressor = this.#compressor;
    const payload = compressor === undefined ? undefined : compressor.deflate(frame);
    if (payload === undefined) {
      this.#socket.send(frame.text);
    } else {
      (this.#socket.sendDeflated as NonNullable<ServerSocket["sendDeflated"]>)(
        payload,
        typeof frame.text !== "string",
      );
      (compressor as FrameCompressor).sent(frame.bytes, payload.length);
    }
    this.#sentFrames++;
    this.#sentMessages += frame.messages;
    this.#sentGaps += frame.gaps;
    this.#ctx.onFrame(frame);
    this.#progress.wrote(frame.bytes, this.#now());
  }

  /**
   * Flow control, with hysteresis. The engine's unsent bytes can never exceed
   * the unconfirmed ones, so `bufferedAmount` (a runtime call) is only read
   * once unconfirmed bytes pass the water mark in question.
   */
  #mayWrite(): boolean {
    const flow = this.#flow;
    if (this.#inflightLagged) {
      this.#blocked = true;
      return false;
    }
    const inflight = this.#progress.inflightBytes;
    const window = this.#progress.windowBytes;
    if (this.#blocked) {
      if (inflight > window / 2) return false;
      if (inflight > flow.lowWaterBytes && this.#socket.bufferedAmount > flow.lowWaterBytes) {
        return false;
      }
      this.#blocked = false;
      return true;
    }
    if (
      inflight > window ||
      (inflight > flow.highWaterBytes && this.#socket.bufferedAmount > flow.highWaterBytes)
    ) {
      this.#blocked = true;
      return false;
    }
    return true;
  }

  /**
   * Queues a control frame (never dropped), given as JSON text; a MessagePack
   * session sends it re-encoded.
   */
  pushControl(frame: string): void {
    if (this.codec === "json") this.queue.pushControl(frame);
    else this.queue.pushControl(this.#ctx.builder.codec.encode(JSON.parse(frame)));
  }

  /**
   * Handles an answer to a probe: a `pong {id}` (without an id it answers the
   * latest ping) or a WebSocket pong carrying a byte offset.
   *
   * @returns false when it answers no probe this session sent.
   */
  onPong(offset: number | undefined, now: number): boolean {
    if (!this.#progress.answered(offset, now)) return false;
    if (this.#lagged) this.#judgeLag(now);
    return true;
  }

  /**
   * Judges how far behind the client reads: lagged when what it was sent went
   * unconfirmed, or the oldest message queued for it waited, longer than
   * `maxLagMs`. While lagged its queue keeps only the latest message per key.
   */
  #judgeLag(now: number): void {
    const maxLag = this.#flow.maxLagMs;
    const since = this.#progress.unansweredSince;
    this.#inflightLagged = since !== undefined && now - since > maxLag;
    let lagged = this.#inflightLagged;
    if (!lagged) {
      const oldest = this.queue.oldest();
      lagged = oldest !== undefined && now - Math.max(oldest.ts, this.#replayAt) > maxLag;
    }
    if (lagged === this.#lagged) return;
    this.#lagged = lagged;
    this.queue.setEagerCoalescing(lagged);
  }

  /**
   * Says history is being queued for replay now: its messages were published
   * long ago, but count as queued now when judging how far behind the client is.
   */
  replaying(now: number): void {
    this.#replayAt = now;
  }

  /**
   * Heartbeat tick. Probes when `heartbeatMs` passed since the last probe, or a
   * third of it (or of `maxLagMs`) passed and data went out since (so a slow
   * reader keeps confirming progress). Shrinks the read window while a probe
   * waits, marks the client lagged (see {@linkcode FlowOptions.maxLagMs}) and,
   * while it is lagged but still reading, drops its stale unkeyed messages.
   * See {@linkcode Heartbeat} for the verdicts.
   */
  heartbeat(now: number, heartbeatMs: number, timeoutMs: number): Heartbeat {
    const progress = this.#progress;
    const since = progress.unansweredSince;
    if (since !== undefined && now - since > timeoutMs) {
      const answeredLately = progress.lastAnswerAt !== undefined &&
        now - progress.lastAnswerAt <= timeoutMs;
      if (this.#blocked || !this.idle || answeredLately) return "slow";
      if (progress.kind !== "buffered") return "dead";
    }
    const maxLag = this.#flow.maxLagMs;
    progress.tick(now, heartbeatMs, Math.min(heartbeatMs, maxLag) / 3);
    this.#judgeLag(now);
    const reading = progress.unansweredSince === undefined ||
      (progress.progressAt !== undefined && now - progress.progressAt <= maxLag);
    if (this.#lagged && reading) {
      // It reads, but too slowly: drop what it cannot read in time. (A client that stopped
      // reading keeps its queue: the ladder closes it once the queue stays full.)
      const cutoff = now - maxLag / 2;
      if (this.#replayAt < cutoff) {
        this.queue.dropStale((m) => m.key === undefined && m.ts < cutoff);
      }
    }
    return "ok";
  }

  /** True while the client is being held back: blocked by flow control or its queue overflowing. */
  get slow(): boolean {
    return this.#blocked || this.queue.health() !== "ok";
  }

  /** The numbers `/stats` shows for this client. */
  stats(now: number): ClientStats {
    const progress = this.#progress;
    return {
      id: this.id,
      remote: this.remote,
      connectedAt: new Date(this.connectedAt).toISOString(),
      connectedMs: now - this.connectedAt,
      topics: [...this.subscriptions.keys()],
      queue: { messages: this.queue.messages, items: this.queue.length, bytes: this.queue.bytes },
      sent: {
        messages: this.#sentMessages,
        frames: this.#sentFrames,
        bytes: progress.sentBytes,
        gaps: this.#sentGaps,
      },
      dropped: this.queue.droppedTotal,
      coalesced: this.queue.coalescedTotal,
      bufferedAmount: this.#socket.bufferedAmount,
      inflightBytes: this.inflightBytes,
      windowBytes: progress.windowBytes,
      blocked: this.#blocked,
      lagged: this.#lagged,
      slow: this.slow,
      lastPongAgoMs: progress.lastAnswerAt === undefined ? null : now - progress.lastAnswerAt,
      level: this.level,
      progress: progress.kind,
      codec: this.codec,
      deflate: this.#compressor !== undefined,
      chunked: this.#transfers.length === 0
        ? null
        : { sent: this.#transfers[0].next, total: this.#transfers[0].frames.length },
    };
  }
}
