/**
 * A load-testing subscriber: one WebSocket connection that checks every seq it
 * receives against the no-silent-loss contract and records end-to-end latency.
 * Fast subscribers use the platform WebSocket; slow and stalled ones read a raw
 * TCP socket at their own pace, so the server sees real backpressure. Chunked
 * frames are reassembled (and timed) once whole; the codec is JSON.
 *
 * @module
 */
import { ChunkAssembler } from "../protocol/chunk_assembler.ts";
import { JSON_SUBPROTOCOL } from "../protocol/subprotocol.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { LatencyHistogram, wallClockMs } from "./latency_histogram.ts";
import { RawWebSocket } from "./raw_ws.ts";
import { SequenceChecker, type SequenceCounts } from "./sequence_checker.ts";

/** What a raw subscriber records when the TCP stream ends without a close frame (RFC 6455's 1006). */
const ENDED_WITHOUT_CLOSE = { code: 1006, reason: "connection ended without a close frame" };

/** How a subscriber reads. */
export type ReadMode =
  /** Reads as fast as it can. */
  | { kind: "fast" }
  /** Spends `slowMs` (± `jitterMs`) on each message before reading on. */
  | { kind: "slow"; slowMs: number; jitterMs?: number }
  /** Completes the handshake, then never reads. */
  | { kind: "stall" };

/** Options of {@linkcode Subscriber.connect}. */
export interface SubscriberOptions {
  /** `ws://host:port/ws` (topics are added as `?topics=`). */
  url: string;
  topics: string[];
  mode?: ReadMode;
  /** Latency goes here; pass one histogram to many subscribers to pool them. */
  latency?: LatencyHistogram;
  /** Every latency is also recorded here (e.g. one histogram per time window, shared). */
  windowLatency?: LatencyHistogram;
  /**
   * Every latency is also pooled here by the message's `data.kind` (a string the
   * publisher set, e.g. `"session"` or `"tree"`); histograms are added on first use.
   */
  latencyByKind?: Map<string, LatencyHistogram>;
  /** Measure latency from `data.sentAt` (publisher's clock) instead of the server's `ts`. */
  latencyFrom?: "ts" | "sentAt";
  /** Only start counting latency after this wall-clock time (warm-up). */
  measureFrom?: number;
  /**
   * Connect as a plain WebSocket: offer no subprotocol and never send a frame.
   * Otherwise offer `floodgate.v1.json` and answer `ping {id}`, as the SDK does.
   * @default {false}
   */
  plain?: boolean;
}

/** What one subscriber saw. */
export interface SubscriberReport {
  clientId: string | undefined;
  mode: ReadMode["kind"];
  connectMs: number;
  messages: number;
  frames: number;
  bytes: number;
  errors: number;
  close: { code: number; reason: string } | undefined;
  topics: Record<string, SequenceCounts>;
}

/** One subscriber connection. */
export class Subscriber {
  readonly mode: ReadMode;
  readonly connectMs: number;
  readonly latency: LatencyHistogram;
  #windowLatency: LatencyHistogram | undefined;
  #latencyByKind: Map<string, LatencyHistogram> | undefined;
  #latencyFrom: "ts" | "sentAt";
  #measureFrom: number;
  #clientId: string | undefined;
  #checkers = new Map<string, SequenceChecker>();
  #chunks = new ChunkAssembler();
  #messages = 0;
  #frames = 0;
  #bytes = 0;
  #errors = 0;
  #close: { code: number; reason: string } | undefined;
  #ws: WebSocket | undefined;
  #raw: RawWebSocket | undefined;
  #reading: Promise<void> | undefined;
  #stopped = false;

  private constructor(options: SubscriberOptions, connectMs: number) {
    this.mode = options.mode ?? { kind: "fast" };
    this.connectMs = connectMs;
    this.latency = options.latency ?? new LatencyHistogram();
    this.#windowLatency = options.windowLatency;
    this.#latencyByKind = options.latencyByKind;
    this.#latencyFrom = options.latencyFrom ?? "ts";
    this.#measureFrom = options.measureFrom ?? 0;
  }

  /**
   * Connects and subscribes.
   *
   * @throws {Error} when the connection fails.
   */
  static async connect(options: SubscriberOptions): Promise<Subscriber> {
    const url = `${options.url}${options.url.includes("?") ? "&" : "?"}topics=${
      options.topics.join(",")
    }`;
    const started = performance.now();
    const mode = options.mode ?? { kind: "fast" };
    if (mode.kind === "fast") {
      const ws = new WebSocket(url, options.plain ? undefined : [JSON_SUBPROTOCOL]);
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`Could not connect to ${url}`));
      });
      const sub = new Subscriber(options, performance.now() - started);
      sub.#ws = ws;
      ws.onmessage = (e: MessageEvent<string>) => {
        sub.#frames++;
        sub.#bytes += e.data.length;
        sub.#handle(e.data);
      };
      ws.onclose = (e) => {
        sub.#close ??= { code: e.code, reason: e.reason };
      };
      return sub;
    }
    const raw = await RawWebSocket.connect(
      url,
      options.plain ? {} : { protocols: [JSON_SUBPROTOCOL] },
    );
    const sub = new Subscriber(options, performance.now() - started);
    sub.#raw = raw;
    if (mode.kind === "slow") sub.#reading = sub.#readSlowly(raw, mode.slowMs, mode.jitterMs ?? 0);
    return sub;
  }

  /** Starts counting latency from this wall-clock time. */
  setMeasureFrom(wallClock: number): void {
    this.#measureFrom = wallClock;
  }

  /** Messages received so far. */
  get messages(): number {
    return this.#messages;
  }

  /** The server's id for this connection, once `welcome` arrived. */
  get clientId(): string | undefined {
    return this.#clientId;
  }

  /**
   * True once every topic in `lastSeqs` was received or gapped up to its seq
   * (or the connection closed, so nothing more will come).
   */
  caughtUp(lastSeqs: Record<string, number>): boolean {
    if (this.#close) return true;
    return Object.entries(lastSeqs).every(([topic, last]) => {
      const checker = this.#checkers.get(topic);
      return checker !== undefined && checker.next > last;
    });
  }

  /** The close the server sent, if any. */
  get close(): { code: number; reason: string } | undefined {
    return this.#close;
  }

  /**
   * Ends the run: a stalled subscriber reads what reached it (to learn how it
   * was treated), then every topic's count is settled against `lastSeqs`.
   */
  async finish(lastSeqs: Record<string, number>, drainMs = 1000): Promise<SubscriberReport> {
    this.#stopped = true;
    if (this.#raw && this.mode.kind === "stall") await this.#drainRaw(this.#raw, drainMs);
    for (const [topic, last] of Object.entries(lastSeqs)) this.#checkers.get(topic)?.finish(last);
    return this.report();
  }

  /** Counts so far. */
  report(): SubscriberReport {
    const topics: Record<string, SequenceCounts> = {};
    for (const [topic, c] of this.#checkers) topics[topic] = c.counts();
    return {
      clientId: this.#clientId,
      mode: this.mode.kind,
      connectMs: this.connectMs,
      messages: this.#messages,
      frames: this.#frames,
      bytes: this.#bytes,
      errors: this.#errors,
      close: this.#close,
      topics,
    };
  }

  /** Closes the connection. */
  async disconnect(): Promise<void> {
    this.#stopped = true;
    if (this.#ws && this.#ws.readyState < WebSocket.CLOSING) this.#ws.close(1000);
    this.#raw?.abort();
    await this.#reading?.catch(() => {});
  }

  async #readSlowly(raw: RawWebSocket, slowMs: number, jitterMs: number): Promise<void> {
    while (!this.#stopped) {
      const event = await raw.read();
      if (!event) {
        if (!this.#stopped) this.#close ??= { ...ENDED_WITHOUT_CLOSE };
        return;
      }
      if (event.kind === "close") {
        this.#close = { code: event.code, reason: event.reason };
        return;
      }
      if (event.kind !== "text") continue;
      this.#frames++;
      this.#bytes += event.text.length;
      const n = this.#handle(event.text);
      const delay = (slowMs + (Math.random() * 2 - 1) * jitterMs) * n;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
  }

  async #drainRaw(raw: RawWebSocket, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    while (Date.now() < deadline) {
      const timeout = new Promise<"timeout">((r) => {
        timer = setTimeout(() => r("timeout"), Math.max(0, deadline - Date.now()));
      });
      const event = await Promise.race([raw.read(), timeout]);
      clearTimeout(timer);
      if (event === "timeout") return;
      if (event === undefined) {
        this.#close ??= { ...ENDED_WITHOUT_CLOSE };
        return;
      }
      if (event.kind === "close") {
        this.#close = { code: event.code, reason: event.reason };
        return;
      }
      if (event.kind === "text") {
        this.#frames++;
        this.#bytes += event.text.length;
        this.#handle(event.text, false);
      }
    }
  }

  /**
   * Handles one text frame; returns the number of messages it carried. `live`
   * is false while a stalled subscriber drains what reached it after the
   * run: no latency is recorded and nothing is written back (the server may have
   * closed the connection long ago, and a write would reset it).
   */
  #handle(text: string, live = true): number {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text);
    } catch {
      this.#errors++;
      return 0;
    }
    if (frame.type === "batch") {
      let n = 0;
      for (const item of frame.messages) n += this.#handleFrame(item, live);
      return n;
    }
    if (
      frame.type === "chunked.start" || frame.type === "chunked.data" ||
      frame.type === "chunked.end"
    ) {
      // A large frame in pieces: handled, and its latency measured, once whole.
      let whole: string | Uint8Array | undefined;
      try {
        whole = this.#chunks.push(frame);
      } catch {
        this.#errors++;
        return 0;
      }
      return typeof whole === "string" ? this.#handle(whole, live) : 0;
    }
    return this.#handleFrame(frame, live);
  }

  #handleFrame(frame: ServerFrame, live: boolean): number {
    switch (frame.type) {
      case "message": {
        this.#messages++;
        this.#checker(frame.topic, frame.seq - 1).message(frame.seq);
        if (live) {
          const now = wallClockMs();
          if (now >= this.#measureFrom) {
            const data = frame.data as { sentAt?: unknown; kind?: unknown } | null;
            const sentAt = data?.sentAt;
            const from = this.#latencyFrom === "sentAt" && typeof sentAt === "number"
              ? sentAt
              : frame.ts;
            this.#record(now - from, data?.kind);
          }
        }
        return 1;
      }
      case "gap":
        this.#checker(frame.topic, frame.fromSeq - 1).gap(frame.fromSeq, frame.toSeq);
        return 0;
      case "subscribed":
      case "snapshot": {
        const checker = this.#checkers.get(frame.topic);
        if (checker) checker.resync(frame.seq);
        else this.#checkers.set(frame.topic, new SequenceChecker(frame.seq));
        return 0;
      }
      case "welcome":
        this.#clientId = frame.clientId;
        return 0;
      case "ping":
        if (live) this.#send(JSON.stringify({ type: "pong", id: frame.id }));
        return 0;
      case "error":
        this.#errors++;
        return 0;
      default:
        return 0;
    }
  }

  #record(ms: number, kind: unknown): void {
    this.latency.record(ms);
    this.#windowLatency?.record(ms);
    if (this.#latencyByKind && typeof kind === "string") {
      let h = this.#latencyByKind.get(kind);
      if (!h) {
        h = new LatencyHistogram();
        this.#latencyByKind.set(kind, h);
      }
      h.record(ms);
    }
  }

  #checker(topic: string, afterSeq: number): SequenceChecker {
    let checker = this.#checkers.get(topic);
    if (!checker) {
      checker = new SequenceChecker(afterSeq);
      this.#checkers.set(topic, checker);
    }
    return checker;
  }

  #send(text: string): void {
    if (this.#ws) {
      if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(text);
    } else {
      this.#raw?.sendText(text).catch(() => {});
    }
  }
}
