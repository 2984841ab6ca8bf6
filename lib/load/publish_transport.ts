/**
 * How a load-testing {@linkcode Publisher} reaches the server: `POST /publish`
 * over HTTP, or `publish` frames over one WebSocket (answered with `ack`).
 *
 * @module
 */
import type { ServerFrame } from "../protocol/frames.ts";
import { RawWebSocket } from "./raw_ws.ts";

/** One message to publish. */
export interface PublishItem {
  topic: string;
  data: unknown;
  key?: string;
}

/** The server's answer to one publish: the seq it gave, or why it failed. */
export type PublishOutcome = { ok: true; seq: number } | { ok: false; reason: string };

/** Sends publishes; one transport per publisher. */
export interface PublishTransport {
  /** `"http"` or `"ws"`. */
  readonly kind: "http" | "ws";
  /** Publishes `body` (the JSON text of `item`) and resolves with the server's answer. */
  publish(item: PublishItem, body: string): Promise<PublishOutcome>;
  /** Releases the connection, if any. */
  close(): Promise<void>;
}

/**
 * Publishes with `POST /publish`; each publish is its own request.
 *
 * @example
 * ```ts ignore
 * const t = httpTransport("http://127.0.0.1:8080");
 * await t.publish(item, JSON.stringify(item)); // { ok: true, seq: 1 }
 * ```
 */
export function httpTransport(
  baseUrl: string,
  headers: Record<string, string> = {},
): PublishTransport {
  const url = `${baseUrl}/publish`;
  return {
    kind: "http",
    async publish(_item, body) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      const answer = await res.json().catch(() => ({}));
      if (res.status === 202 && typeof answer.seq === "number") {
        return { ok: true, seq: answer.seq };
      }
      return { ok: false, reason: `HTTP ${res.status}` };
    },
    close() {
      return Promise.resolve();
    },
  };
}

/**
 * Publishes with `publish` frames carrying an `id` over one WebSocket and
 * matches each `ack` (or `error`) to its publish. Answers the server's pings, so
 * the connection's heartbeat and flow control stay healthy. Runs on
 * {@linkcode RawWebSocket} with `TCP_NODELAY`: the platform WebSocket client
 * let small frames wait ~40 ms for delayed ACKs, which a load test would have
 * charged to the server.
 */
export class WsPublishTransport implements PublishTransport {
  readonly kind = "ws";
  readonly #raw: RawWebSocket;
  readonly #pending = new Map<number, (outcome: PublishOutcome) => void>();
  readonly #reading: Promise<void>;
  #nextId = 1;
  #closed: number | undefined;

  private constructor(raw: RawWebSocket) {
    this.#raw = raw;
    this.#reading = this.#readLoop();
  }

  /**
   * Opens the WebSocket (`ws://host:port/ws`, no topics).
   *
   * @throws {Error} when the connection fails.
   */
  static async connect(wsUrl: string): Promise<WsPublishTransport> {
    return new WsPublishTransport(await RawWebSocket.connect(wsUrl));
  }

  publish(item: PublishItem, _body: string): Promise<PublishOutcome> {
    if (this.#closed !== undefined) {
      return Promise.resolve({ ok: false, reason: `closed ${this.#closed}` });
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#raw.sendText(JSON.stringify({ type: "publish", ...item, id })).catch((err) => {
        this.#pending.delete(id);
        resolve({ ok: false, reason: (err as Error).message });
      });
    });
  }

  /** Closes with 1000 and waits for the server's answer (at most 1 s). */
  async close(): Promise<void> {
    if (this.#closed === undefined) {
      await this.#raw.sendClose(1000).catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#reading,
        new Promise((r) => (timer = setTimeout(r, 1000))),
      ]);
      clearTimeout(timer);
    }
    this.#raw.abort();
    await this.#reading;
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      const event = await this.#raw.read();
      if (!event || event.kind === "close") {
        this.#closed = event?.code ?? 1006;
        for (const resolve of this.#pending.values()) {
          resolve({ ok: false, reason: `closed ${this.#closed}` });
        }
        this.#pending.clear();
        return;
      }
      if (event.kind === "text") this.#handle(event.text);
    }
  }

  #handle(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "ping") {
      this.#raw.sendText(JSON.stringify({ type: "pong", id: frame.id })).catch(() => {});
    } else if (frame.type === "ack" || (frame.type === "error" && frame.id !== undefined)) {
      const id = Number(frame.id);
      const resolve = this.#pending.get(id);
      if (!resolve) return;
      this.#pending.delete(id);
      resolve(
        frame.type === "ack" ? { ok: true, seq: frame.seq } : { ok: false, reason: frame.code },
      );
    }
  }
}
