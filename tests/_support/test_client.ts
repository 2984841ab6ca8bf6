/**
 * A real WebSocket client for tests: records every frame (batches unpacked,
 * chunked messages reassembled), answers server pings, and waits for
 * conditions with a deadline. Speaks JSON, or MessagePack when connected with
 * the `floodgate.v1.msgpack` subprotocol.
 */
import { ChunkAssembler } from "../../lib/protocol/chunk_assembler.ts";
import { decodeFrame, msgpackCodec } from "../../lib/protocol/codec.ts";
import type {
  ChunkedFrame,
  GapFrame,
  MessageFrame,
  ServerFrame,
} from "../../lib/protocol/frames.ts";

export interface TestClientOptions {
  /** Answer server pings with pongs. @default {true} */
  answerPings?: boolean;
  /**
   * Connect as a plain client: no subprotocol offered (unless `protocols` are
   * given). Otherwise the client offers `floodgate.v1.json`.
   * @default {false}
   */
  plain?: boolean;
}

export class TestClient {
  readonly socket: WebSocket;
  /** Every frame received, with batch elements unpacked and chunked messages reassembled, in order. */
  readonly frames: ServerFrame[] = [];
  /** Every WebSocket frame as it arrived (chunked.* frames included, batches whole). */
  readonly wire: { frame: ServerFrame; bytes: number }[] = [];
  /** WebSocket frames received (a batch counts once). */
  rawFrames = 0;
  /** Receive time (performance.timeOrigin + now) per message, same order as messages(). */
  readonly receivedAt: number[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters = new Set<() => void>();
  readonly #chunks = new ChunkAssembler();
  readonly #msgpack = msgpackCodec();

  private constructor(url: string, options: TestClientOptions, protocols?: string | string[]) {
    this.socket = new WebSocket(
      url,
      protocols ?? (options.plain ? undefined : ["floodgate.v1.json"]),
    );
    this.socket.binaryType = "arraybuffer";
    const answerPings = options.answerPings ?? true;
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
    });
    this.closed = new Promise((resolve) => {
      this.socket.onclose = (e) => {
        resolve({ code: e.code, reason: e.reason });
        this.#notify();
      };
    });
    this.socket.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      this.rawFrames++;
      const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data);
      const frame = decodeFrame(data) as ServerFrame;
      this.wire.push({
        frame,
        bytes: typeof data === "string" ? new TextEncoder().encode(data).length : data.length,
      });
      this.#handle(frame, answerPings);
      this.#notify();
    };
  }

  #handle(frame: ServerFrame, answerPings: boolean): void {
    if (frame.type.startsWith("chunked.")) {
      const whole = this.#chunks.push(frame as ChunkedFrame);
      if (whole !== undefined) this.#handle(decodeFrame(whole) as ServerFrame, answerPings);
      return;
    }
    const now = performance.timeOrigin + performance.now();
    const items = frame.type === "batch" ? frame.messages : [frame];
    for (const item of items) {
      this.frames.push(item);
      if (item.type === "message") this.receivedAt.push(now);
    }
    if (frame.type === "ping" && answerPings) this.send({ type: "pong", id: frame.id });
  }

  /** Connects and waits for `welcome`. */
  static async connect(
    url: string,
    options: TestClientOptions = {},
    protocols?: string | string[],
  ): Promise<TestClient> {
    const client = new TestClient(url, options, protocols);
    await client.opened;
    await client.waitFor(() => client.frames.some((f) => f.type === "welcome"), 5000, "welcome");
    return client;
  }

  /** Sends a frame: a string as is; an object as JSON, or as MessagePack on a MessagePack connection. */
  send(frame: unknown): void {
    if (typeof frame === "string") this.socket.send(frame);
    else if (this.socket.protocol === "floodgate.v1.msgpack") {
      this.socket.send(this.#msgpack.encode(frame as Record<string, unknown>));
    } else this.socket.send(JSON.stringify(frame));
  }

  messages(topic?: string): MessageFrame[] {
    return this.frames.filter((f): f is MessageFrame =>
      f.type === "message" && (topic === undefined || f.topic === topic)
    );
  }

  gaps(topic?: string): GapFrame[] {
    return this.frames.filter((f): f is GapFrame =>
      f.type === "gap" && (topic === undefined || f.topic === topic)
    );
  }

  ofType<T extends ServerFrame["type"]>(type: T): Extract<ServerFrame, { type: T }>[] {
    return this.frames.filter((f) => f.type === type) as Extract<ServerFrame, { type: T }>[];
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs` naming `what`. */
  waitFor(predicate: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close(1000);
    await this.closed;
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
