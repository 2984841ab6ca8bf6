import { LogHistogram } from "../metrics/log_histogram.ts";
import type { Closer } from "../protocol/metrics_sample.ts";
import type { ClientSession } from "./client_session.ts";
import type { BuiltFrame } from "./frame_builder.ts";

type Histogram = LogHistogram;

function histogram(): Histogram {
  return new LogHistogram();
}

/** Percentiles in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function percentiles(h: Histogram): Percentiles {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
  };
}

/**
 * The hub's running totals. Plain numbers on the hot path; `/metrics` and the
 * summary log read them.
 */
export class HubCounters {
  published = 0;
  connections = 0;
  framesReceived = 0;
  oversizeFrames = 0;
  /** Chunked messages received whole from clients, and refused (too large, malformed, expired). */
  chunkedReceived = 0;
  chunkedRefused = 0;
  errors = 0;
  slowDisconnects = 0;
  heartbeatTimeouts = 0;
  /** Subscribes that asked to resume (`since`). */
  resumes = 0;
  /** Messages replayed from history to resuming clients. */
  replayed = 0;
  /** Messages delivered by the naive broadcaster. */
  naiveDelivered = 0;
  /** Messages written to sockets by queues. */
  deliveredMessages = 0;
  framesSent = 0;
  bytesSent = 0;
  gapsSent = 0;
  /** Chunk frames (`chunked.start`/`data`/`end`) written, and chunked messages completed. */
  chunkFramesSent = 0;
  chunkedSent = 0;
  /** Queued bytes let go of under memory pressure (see {@linkcode Hub.shed}). */
  shedBytes = 0;
  /** Drops and coalesces of clients already gone. */
  droppedGone = 0;
  coalescedGone = 0;
  readonly disconnectsByCode = new Map<number, number>();
  /** Disconnects by who closed (the client, or the server) and close code. */
  readonly disconnectsBy: Record<Closer, Map<number, number>> = {
    client: new Map(),
    server: new Map(),
  };
  /** Requests, connections and frames refused, by reason. */
  readonly rejections = new Map<string, number>();
  /** Duration of one publish's fan-out, in µs. */
  readonly fanout: Histogram = histogram();
  /** Time from publish to write, per frame (its oldest message), in µs: since start… */
  #queueDelay: Histogram = histogram();
  /** …since the last {@linkcode HubCounters.takeWindowDelay}… */
  #windowDelay: Histogram = histogram();
  /** …and recorded but not yet merged into the ones above (one record per frame). */
  #pendingDelay: Histogram = histogram();
  /** Windows of other readers (see {@linkcode HubCounters.delayWindow}). */
  readonly #readerWindows = new Set<Histogram>();

  /** Records a frame written by a queue. */
  frameSent(frame: BuiltFrame, now: number): void {
    this.framesSent++;
    this.bytesSent += frame.bytes;
    this.deliveredMessages += frame.messages;
    this.gapsSent += frame.gaps;
    if (frame.oldestTs !== undefined) {
      this.#pendingDelay.recordValue(Math.max(1, Math.round((now - frame.oldestTs) * 1000)));
    }
  }

  /** Queue-delay percentiles since the last call, then starts a new window. */
  takeWindowDelay(): Percentiles {
    this.#mergeDelay();
    const p = percentiles(this.#windowDelay);
    this.#windowDelay.reset();
    return p;
  }

  /**
   * A queue-delay window of the caller's own, so that several readers (the
   * summary log, the `$metrics` publisher) do not reset each other's windows.
   */
  delayWindow(): { take(): Percentiles; close(): void } {
    const h = histogram();
    this.#readerWindows.add(h);
    return {
      take: () => {
        this.#mergeDelay();
        const p = percentiles(h);
        h.reset();
        return p;
      },
      close: () => {
        this.#readerWindows.delete(h);
      },
    };
  }

  #mergeDelay(): void {
    if (this.#pendingDelay.totalCount === 0) return;
    this.#queueDelay.add(this.#pendingDelay);
    this.#windowDelay.add(this.#pendingDelay);
    for (const h of this.#readerWindows) h.add(this.#pendingDelay);
    this.#pendingDelay.reset();
  }

  /** Counts one refusal (`unauthorized`, `forbidden`, `rate_limited`, …). */
  reject(reason: string): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }

  /** Records one fan-out's duration. */
  observeFanout(ms: number): void {
    this.fanout.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Records a disconnect (`by` who closed it) and keeps the session's drop totals. */
  disconnected(code: number, session: ClientSession, by: Closer): void {
    this.disconnectsByCode.set(code, (this.disconnectsByCode.get(code) ?? 0) + 1);
    const closes = this.disconnectsBy[by];
    closes.set(code, (closes.get(code) ?? 0) + 1);
    this.droppedGone += session.queue.droppedTotal;
    this.coalescedGone += session.queue.coalescedTotal;
  }

  /** Total messages delivered, by queues and by the naive broadcaster. */
  get delivered(): number {
    return this.deliveredMessages + this.naiveDelivered;
  }

  /** Everything as JSON, with drop totals including the live `sessions`. */
  toJSON(sessions: Iterable<ClientSession>) {
    this.#mergeDelay();
    let dropped = this.droppedGone;
    let coalesced = this.coalescedGone;
    for (const s of sessions) {
      dropped += s.queue.droppedTotal;
      coalesced += s.queue.coalescedTotal;
    }
    return {
      published: this.published,
      delivered: this.delivered,
      framesSent: this.framesSent,
      bytesSent: this.bytesSent,
      gapsSent: this.gapsSent,
      dropped,
      coalesced,
      connections: this.connections,
      framesReceived: this.framesReceived,
      errors: this.errors,
      oversizeFrames: this.oversizeFrames,
      chunkFramesSent: this.chunkFramesSent,
      chunkedSent: this.chunkedSent,
      chunkedReceived: this.chunkedReceived,
      chunkedRefused: this.chunkedRefused,
      slowDisconnects: this.slowDisconnects,
      heartbeatTimeouts: this.heartbeatTimeouts,
      shedBytes: this.shedBytes,
      resumes: this.resumes,
      replayed: this.replayed,
      disconnectsByCode: Object.fromEntries(this.disconnectsByCode),
      disconnectsBy: {
        client: Object.fromEntries(this.disconnectsBy.client),
        server: Object.fromEntries(this.disconnectsBy.server),
      },
      rejections: Object.fromEntries(this.rejections),
      queueDelayMs: percentiles(this.#queueDelay),
      fanoutMs: percentiles(this.fanout),
    };
  }
}
