/**
 * One connected client on the server: its socket, send queue, subscriptions,
 * flow control and heartbeat.
 *
 * @module
 */
import type { Permissions } from "../auth/permissions.ts";
import { TokenBucket } from "../limits/token_bucket.ts";
import type { ChunkAssembler } from "../protocol/chunk_assembler.ts";
import type { CodecName } from "../protocol/codec.ts";
import type { ClientLevel } from "../protocol/subprotocol.ts";
import { SendQueue, type SendQueueOptions, type TakeHold } from "../queue/send_queue.ts";
import type { ServerSocket } from "../transport/socket.ts";
import type { Delivery } from "./delivery.ts";
import { ChunkTransfers } from "./chunk_transfers.ts";
import type { ClientStats } from "./client_stats.ts";
import type { DrainContext } from "./drain_contexts.ts";
import { FlowGate, type FlowOptions } from "./flow_gate.ts";
import type { BuiltFrame } from "./frame_builder.ts";
import type { FrameCompressor } from "./frame_compressor.ts";
import { type ProgressKind, type ReadProgress, readProgressFor } from "./read_progress.ts";
import type { Subscription } from "./subscription.ts";

/**
 * What {@linkcode ClientSession.drain} left: `"idle"` (nothing to send),
 * `"blocked"` (flow control stopped it; retry later) or `"more"` (it sent one
 * chunk of a large message and yields; drain again next turn).
 */
export type DrainResult = "idle" | "blocked" | "more";

/** Everything a {@linkcode ClientSession} is made of. */
export interface ClientSessionOptions {
  id: string;
  /** Who connected, for logs and `/stats` (address and port). */
  remote: string;
  /** The client's address alone, keying per-address limits. @default {remote} */
  address?: string;
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
  /** The client's address, keying per-address limits. */
  readonly address: string;
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
  /** Large frames being sent in chunks. */
  readonly #transfers: ChunkTransfers;
  /** What the client has read of what was written. */
  readonly #progress: ReadProgress;
  readonly #gate: FlowGate;
  /** Reads more than `maxLagMs` behind, in flight or in its queue (see {@linkcode FlowOptions.maxLagMs}). */
  #lagged = false;

  #sentMessages = 0;
  #sentFrames = 0;
  #sentGaps = 0;
  /** When history was last queued for replay: replayed messages count as queued then. */
  #replayAt = -Infinity;

  constructor(options: ClientSessionOptions) {
    const { socket, flow, ctx } = options;
    this.id = options.id;
    this.remote = options.remote;
    this.address = options.address ?? options.remote;
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
    this.#progress = readProgressFor({
      level: this.level,
      socket,
      codec: ctx.builder.codec,
      flow,
      openedAt: this.connectedAt,
    });
    this.#gate = new FlowGate(flow, socket, this.#progress);
    // Every part of a batch is at least 32 bytes, so its separators take at most chunkBytes / 32.
    this.#batchBytes = chunkBytes === Infinity
      ? flow.maxFrameBytes
      : Math.min(flow.maxFrameBytes, chunkBytes - codec.batchOverhead - chunkBytes / 32);
    this.queue = new SendQueue<Delivery>(options.queue);
    this.#transfers = new ChunkTransfers(ctx.builder, this.#batchBytes);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.socketClosed = promise;
    this.markSocketClosed = resolve;
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
    return this.#gate.blocked;
  }

  /** Messages sent so far. */
  get sentMessages(): number {
    return this.#sentMessages;
  }

  /** True when nothing is left to send: the queue is empty and no chunked message is under way. */
  get idle(): boolean {
    return this.queue.isEmpty && this.#transfers.current === undefined;
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
      const transfers = this.#transfers;
      if (transfers.current !== undefined) {
        const hold = transfers.passable;
        if (hold !== undefined) {
          if (!this.#writeAround(hold)) return "blocked";
          if (transfers.passable === undefined) continue;
        }
        if (chunkSent) return "more";
        if (
          !this.#gate.open() ||
          this.inflightBytes > Math.min(transfers.windowBytes, this.#progress.windowBytes)
        ) return "blocked";
        const chunkFrames = transfers.writeNext((frame) => this.#write(frame));
        // A probe after each chunk: its answer lets the next one go.
        this.#progress.probeIfWritten(this.#now());
        if (chunkFrames !== undefined) this.#ctx.onChunked(chunkFrames);
        chunkSent = true;
        continue;
      }
      if (this.queue.isEmpty) return "idle";
      if (!this.#gate.open()) return "blocked";
      const entries = this.queue.take(this.#gate.takeBytes(this.#batchBytes));
      const frame = this.#ctx.builder.build(entries);
      if (frame.bytes > this.#ctx.builder.chunkBytes) {
        const topic = entries.length === 1 ? entries[0].message?.topic : undefined;
        this.#transfers.start(frame, topic);
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
      if (!this.#gate.open()) return false;
      const entries = this.queue.take(this.#gate.takeBytes(this.#batchBytes), hold);
      if (entries.length === 0) return true;
      const frame = this.#ctx.builder.build(entries);
      if (frame.bytes > this.#ctx.builder.chunkBytes) {
        // Rare (a MessagePack batch larger than its JSON): chunk it next, holding everything back.
        this.#transfers.start(frame, undefined);
        return true;
      }
      this.#write(frame);
    }
    return true;
  }

  #write(frame: BuiltFrame): void {
    const compressor = this.#compressor;
    const payload = compressor === undefined ? undefined : compressor.deflate(frame);
    const binary = this.codec !== "json";
    if (payload === undefined) {
      this.#socket.send(frame.text, binary);
    } else {
      (this.#socket.sendDeflated as NonNullable<ServerSocket["sendDeflated"]>)(payload, binary);
      (compressor as FrameCompressor).sent(frame.bytes, payload.length);
    }
    this.#sentFrames++;
    this.#sentMessages += frame.messages;
    this.#sentGaps += frame.gaps;
    this.#ctx.onFrame(frame);
    this.#progress.wrote(frame.bytes, this.#now);
  }

  /**
   * Queues a control frame (never dropped), given as JSON text (a string or
   * its UTF-8 bytes, shared as they are); a MessagePack session sends it re-encoded.
   */
  pushControl(frame: string | Uint8Array): void {
    if (this.codec === "json") this.queue.pushControl(frame);
    else {
      const text = typeof frame === "string" ? frame : new TextDecoder().decode(frame);
      this.queue.pushControl(this.#ctx.builder.codec.encode(JSON.parse(text)));
    }
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
    // What it was sent went unconfirmed for longer than maxLag: nothing more is written for now.
    this.#gate.halted = since !== undefined && now - since > maxLag;
    let lagged = this.#gate.halted;
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
      if (this.#gate.blocked || !this.idle || answeredLately) return "slow";
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
    return this.#gate.blocked || this.queue.health() !== "ok";
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
      blocked: this.#gate.blocked,
      lagged: this.#lagged,
      slow: this.slow,
      lastPongAgoMs: progress.lastAnswerAt === undefined ? null : now - progress.lastAnswerAt,
      level: this.level,
      progress: progress.kind,
      codec: this.codec,
      deflate: this.#compressor !== undefined,
      chunked: this.#transfers.current ?? null,
    };
  }
}
