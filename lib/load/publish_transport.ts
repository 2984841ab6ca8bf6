/**
 * How a load-testing {@linkcode Publisher} reaches the server: `POST /publish`
 * over HTTP, or `publish` frames over one WebSocket (answered with `ack`).
 *
 * @module
 */
import type { ServerFrame } from "../protocol/frames.ts";

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
 * the connection's heartbeat and flow control stay healthy.
 */
export class WsPublishTransport implements PublishTransport {
  readonly kind = "ws";
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (outcome: PublishOutcome) => void>();
  #nextId = 1;
  #closed: { code: number; reason: string } | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e: MessageEvent<string>) => this.#handle(e.data);
    ws.onclose = (e) => {
      this.#closed = { code: e.code, reason: e.reason };
      for (const resolve of this.#pending.values()) {
        resolve({ ok: false, reason: `closed ${e.code}` });
      }
      this.#pending.clear();
    };
  }

  /**
   * Opens the WebSocket (`ws://host:port/ws`, no topics).
   *
   * @throws {Error} when the connection fails.
   */
  static async connect(wsUrl: string): Promise<WsPublishTransport> {
    const ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`Could not open a publishing WebSocket to ${wsUrl}`));
    });
    return new WsPublishTransport(ws);
  }

  publish(item: PublishItem, _body: string): Promise<PublishOutcome> {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) {
      return Promise.resolve({ ok: false, reason: `closed ${this.#closed?.code ?? ""}`.trim() });
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#ws.send(JSON.stringify({ type: "publish", ...item, id }));
    });
  }

  close(): Promise<void> {
    if (this.#ws.readyState >= WebSocket.CLOSING) return Promise.resolve();
    const closed = new Promise<void>((resolve) => {
      this.#ws.addEventListener("close", () => resolve(), { once: true });
    });
    this.#ws.close(1000);
    return closed;
  }

  #handle(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "ping") {
      this.#ws.send(JSON.stringify({ type: "pong", id: frame.id }));
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
