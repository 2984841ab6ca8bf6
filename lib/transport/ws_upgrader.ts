/**
 * The `npm:ws` engine on `node:http`: negotiates permessage-deflate (RFC 7692),
 * which the native engine cannot. Hono stays the HTTP app: plain requests go
 * through `@hono/node-server`'s request listener, and upgrade requests run the
 * same app, whose `/ws` route calls {@linkcode WsUpgrader.upgrade}.
 *
 * @module
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";
// @ts-types="npm:@types/ws@^8.18.1"
import * as wsModule from "ws";
import type { ServerSocket, SocketHandlers, UpgradeOptions, Upgrader } from "./socket.ts";
import {
  type EngineErrorHandler,
  guardHandlers,
  HANDLER_FAILED,
  logEngineError,
  reportEngineError,
} from "./engine_errors.ts";
import { checkHandshake, refusalResponse, wantsWebSocket } from "./handshake.ts";

/** How the `ws` engine compresses. */
export type WsCompression = "off" | "deflate" | "deflate-per-socket";

/** Options of {@linkcode WsUpgrader}. */
export interface WsUpgraderOptions {
  /**
   * `"deflate"`: negotiate permessage-deflate with `server_no_context_takeover`
   * and send frames compressed by the hub, once per broadcast
   * (`sendDeflated`); `"deflate-per-socket"`: let `ws` compress every send per
   * connection with context takeover (for comparison); `"off"`: no compression.
   * @default {"deflate"}
   */
  compression?: WsCompression;
  /** Largest inbound message; larger closes with 1009. @default {1048576} */
  maxPayload?: number;
  /** For `"deflate-per-socket"`: ws's threshold and zlib level. */
  threshold?: number;
  level?: number;
  /**
   * Receives what a handler (or the app, during an upgrade) threw; that
   * connection is closed with 1011 and the others go on.
   * @default {logEngineError}
   */
  onError?: EngineErrorHandler;
}

/** The bindings this engine gives the app for an upgrade request (`c.env`). */
export interface WsUpgradeEnv {
  incoming: IncomingMessage;
  /** Same shape as `Deno.serve`'s, so the app finds the peer address either way. */
  remoteAddr: { hostname: string; port: number };
}

interface PendingUpgrade {
  protocol: string | undefined;
  handlers: SocketHandlers;
}

type WebSocket = wsModule.WebSocket;

/** Delay before cutting a connection that sent a broken frame: its close frame is already written. */
const CLOSE_GRACE_MS = 0;
const { WebSocketServer } = wsModule;

/**
 * What of `ws` the pre-compressed path uses beyond its typed API: the public
 * `Sender.frame` (not in `@types/ws`) and a socket's `_sender.sendFrame`, the
 * call `ws.send` ends in. Both are unchanged across ws 8; the deflate tests
 * catch a change.
 */
interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Uint8Array, options: FrameOptions): unknown[] };
};
interface WsInternals {
  _sender: { sendFrame(list: unknown[]): void };
}

/**
 * Upgrades through `npm:ws`. Call {@linkcode WsUpgrader.attach} on the
 * `node:http` server first.
 *
 * @example
 * ```ts ignore
 * const upgrader = new WsUpgrader({ compression: "deflate" });
 * const server = http.createServer(getRequestListener(app.fetch));
 * upgrader.attach(server, app.fetch);
 * ```
 */
export class WsUpgrader implements Upgrader {
  readonly name: string;
  readonly #compression: WsCompression;
  readonly #wss: wsModule.WebSocketServer;
  readonly #onError: EngineErrorHandler;
  /** Requests that arrived as upgrades (through {@linkcode WsUpgrader.attach}) and are with the app. */
  readonly #arrived = new WeakSet<IncomingMessage>();
  /** Upgrades the app accepted, waiting for the handshake. */
  readonly #pending = new WeakMap<IncomingMessage, PendingUpgrade>();
  #inProgress = 0;

  constructor(options: WsUpgraderOptions = {}) {
    this.#onError = options.onError ?? logEngineError;
    this.#compression = options.compression ?? "deflate";
    this.name = this.#compression === "off" ? "ws" : `ws+${this.#compression}`;
    const perSocket = this.#compression === "deflate-per-socket";
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload ?? 1 << 20,
      perMessageDeflate: this.#compression === "off" ? false : {
        // Compress-once needs every message compressed from a fresh state.
        serverNoContextTakeover: !perSocket,
        // Inbound messages need no per-connection inflate window kept between them.
        clientNoContextTakeover: true,
        threshold: options.threshold ?? 1024,
        zlibDeflateOptions: { level: options.level ?? 6 },
      },
      handleProtocols: (_offered: Set<string>, request: IncomingMessage) =>
        this.#pending.get(request)?.protocol ?? false,
    });
  }

  /**
   * Upgrade requests in progress (see {@linkcode Upgrader.pending}): counted
   * once the app's handler has run to its first `await`, until the
   * connection opens, is refused, or drops.
   */
  get pending(): number {
    return this.#inProgress;
  }

  /**
   * Serves WebSocket upgrades on `server`: a request whose handshake breaks
   * RFC 6455 §4.2.1 is answered 400 (426 for a version other than 13) before
   * the app runs; the others run `fetch` (the Hono app) with
   * {@linkcode WsUpgradeEnv} bindings. When the route called
   * {@linkcode WsUpgrader.upgrade}, the handshake completes, otherwise the
   * app's answer (e.g. 503) is written and the socket closed.
   */
  attach(
    server: Server,
    fetch: (request: Request, env: WsUpgradeEnv) => Response | Promise<Response>,
  ): void {
    server.on("upgrade", (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on("error", () => {});
      this.#serveUpgrade(incoming, socket, head, fetch).catch((error) => {
        reportEngineError(this.#onError, error, "upgrade");
        socket.destroy();
      });
    });
  }

  /**
   * Stops completing handshakes (`ws` answers 503 from then on); open
   * connections go on. The listener calls it on shutdown, not on every
   * `close` of the `node:http` server, which also closes to listen again.
   */
  close(): void {
    this.#wss.close();
  }

  async #serveUpgrade(
    incoming: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    fetch: (request: Request, env: WsUpgradeEnv) => Response | Promise<Response>,
  ): Promise<void> {
    const header = (name: string) => headerOf(incoming, name);
    const refused = wantsWebSocket(header) ? checkHandshake(header) : undefined;
    if (refused) {
      socket.end(await refusal(refusalResponse(refused)));
      return;
    }
    let counted = false;
    const settle = () => {
      if (counted) this.#inProgress--;
      counted = false;
    };
    let handedOver = false;
    try {
      const request = toRequest(incoming);
      if (!request) {
        socket.end(await refusal(badRequest()));
        return;
      }
      const env: WsUpgradeEnv = {
        incoming,
        remoteAddr: {
          hostname: incoming.socket.remoteAddress ?? "unknown",
          port: incoming.socket.remotePort ?? 0,
        },
      };
      let answer: Response | undefined;
      this.#arrived.add(incoming);
      try {
        const answering = fetch(request, env);
        // Counted once the app's synchronous part (its limit check) has run: it sees every
        // other upgrade in flight, not its own.
        this.#inProgress++;
        counted = true;
        socket.once("close", settle);
        answer = await answering;
      } catch (error) {
        reportEngineError(this.#onError, error, "upgrade"); // answered with 500 below
      } finally {
        this.#arrived.delete(incoming);
      }
      const pending = this.#pending.get(incoming);
      if (!pending || socket.destroyed) {
        this.#pending.delete(incoming);
        if (!socket.destroyed) socket.end(await refusal(answer));
        return;
      }
      handedOver = true;
      // ws answers a handshake it cannot complete itself and destroys the socket: "close" settles.
      this.#wss.handleUpgrade(incoming, socket, head, (ws: WebSocket) => {
        this.#pending.delete(incoming);
        settle();
        this.#open(ws, pending.handlers);
      });
    } finally {
      if (!handedOver) settle();
    }
  }

  /**
   * Accepts the upgrade of a request served through {@linkcode WsUpgrader.attach}.
   * A request `node:http` did not take for an upgrade (no `Connection: Upgrade`)
   * reaches the app as a plain request: it is answered 400 here.
   *
   * @throws {TypeError} when `options.env` carries no `node:http` request.
   */
  upgrade(request: Request, options: UpgradeOptions, handlers: SocketHandlers): Response {
    const incoming = (options.env as Partial<WsUpgradeEnv> | undefined)?.incoming;
    if (!incoming) {
      throw new TypeError("WsUpgrader.upgrade needs a request served through WsUpgrader.attach");
    }
    if (!this.#arrived.has(incoming)) {
      return refusalResponse(
        checkHandshake((name) => request.headers.get(name)) ?? {
          status: 400,
          message: "WebSocket handshake: the request is not an HTTP/1.1 upgrade (RFC 6455 §4.1)",
        },
      );
    }
    this.#pending.set(incoming, { protocol: options.protocol, handlers });
    // Only the status matters: the upgrade listener completes the handshake itself.
    return new Response(null, { status: 200 });
  }

  #open(ws: WebSocket, unguarded: SocketHandlers): void {
    const handlers = guardHandlers(unguarded, this.#onError, () => {
      if (ws.readyState < 2) ws.close(HANDLER_FAILED.code, HANDLER_FAILED.reason);
    });
    const compressEach = this.#compression === "deflate-per-socket";
    const socket: ServerSocket = {
      send(frame, binary = typeof frame !== "string") {
        if (ws.readyState !== 1) return;
        ws.send(frame, { binary, compress: compressEach });
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      ping(data) {
        if (ws.readyState === 1) ws.ping(data);
      },
      close(code, reason) {
        if (ws.readyState < 2) ws.close(code, reason);
      },
    };
    if (this.#compression === "deflate" && ws.extensions.includes("permessage-deflate")) {
      // ws compresses per socket only; a frame compressed once goes out as is, RSV1 set.
      const sender = (ws as unknown as WsInternals)._sender;
      socket.sendDeflated = (payload, binary) => {
        if (ws.readyState !== 1) return;
        sender.sendFrame(
          Sender.frame(payload, {
            fin: true,
            rsv1: true,
            opcode: binary ? 2 : 1,
            mask: false,
            readOnly: false,
          }),
        );
      };
    }
    let closed = false;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      handlers.onMessage(
        isBinary
          ? new Uint8Array(data.buffer, data.byteOffset, data.length)
          : data.toString("utf8"),
      );
    });
    if (handlers.onPong) {
      const onPong = handlers.onPong;
      ws.on(
        "pong",
        (data: Buffer) => onPong(new Uint8Array(data.buffer, data.byteOffset, data.length)),
      );
    }
    ws.on("close", (code: number, reason: Buffer) => {
      if (closed) return;
      closed = true;
      handlers.onClose(code, reason.toString());
    });
    ws.on("error", () => {
      // A broken frame (bad UTF-8, a reserved opcode, a length over maxPayload): ws has sent
      // its close frame and would read on, discarding, until its 30 s closing timeout. Cut the
      // connection on the next turn instead; the close event follows.
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    });
    handlers.onOpen(socket);
  }
}

/** The app's answer to an upgrade it refused, as raw HTTP/1.1 (status, headers, body). */
async function refusal(answer: Response | undefined): Promise<string> {
  const status = answer?.status ?? 500;
  const body = answer ? await answer.text() : "";
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`];
  answer?.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") lines.push(`${name}: ${value}`);
  });
  lines.push("Connection: close", `Content-Length: ${new TextEncoder().encode(body).length}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** A 400 for an upgrade request that cannot even be read as a `Request` (e.g. a broken `Host`). */
function badRequest(): Response {
  return Response.json(
    { error: { code: "invalid_frame", message: "Malformed request line or headers" } },
    { status: 400 },
  );
}

/** One request header as a string: repeated ones joined with ", ", as `Headers` does. */
function headerOf(incoming: IncomingMessage, name: string): string | undefined {
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The upgrade request as a `Request`, or `undefined` when its URL or headers do not parse. */
function toRequest(incoming: IncomingMessage): Request | undefined {
  try {
    const headers = new Headers();
    for (const [key, value] of Object.entries(incoming.headers)) {
      if (value === undefined) continue;
      headers.append(key, Array.isArray(value) ? value.join(", ") : value);
    }
    return new Request(`http://${incoming.headers.host ?? "localhost"}${incoming.url ?? "/"}`, {
      headers,
    });
  } catch {
    return undefined;
  }
}
