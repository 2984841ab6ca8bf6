import type { ServerSocket, SocketHandlers, UpgradeOptions, Upgrader } from "./socket.ts";

const QUIET_MS = 50;
const MAX_LINGER_MS = 1000;
const decoder = new TextDecoder();

/**
 * The native engine: `Deno.upgradeWebSocket`. Fastest per delivery; does not
 * negotiate permessage-deflate.
 *
 * @example
 * ```ts
 * import { DenoUpgrader } from "./deno_upgrader.ts";
 * const upgrader = new DenoUpgrader();
 * Deno.serve({ port: 0, onListen() {} }, (req) =>
 *   upgrader.upgrade(req, {}, {
 *     onOpen: (socket) => socket.send("hello"),
 *     onMessage: () => {},
 *     onClose: () => {},
 *   })).shutdown();
 * ```
 */
export class DenoUpgrader implements Upgrader {
  readonly name = "deno";
  readonly #idleTimeout: number;

  /** @param idleTimeoutSec WebSocket-level ping timeout, 0 to disable. @default {120} */
  constructor(idleTimeoutSec = 120) {
    this.#idleTimeout = idleTimeoutSec;
  }

  upgrade(request: Request, options: UpgradeOptions, handlers: SocketHandlers): Response {
    const { socket, response } = Deno.upgradeWebSocket(request, {
      protocol: options.protocol,
      idleTimeout: this.#idleTimeout,
    });
    let lastInbound = -Infinity;
    let closeRequested = false;
    let lingering: ReturnType<typeof setTimeout> | undefined;
    let errorTimer: ReturnType<typeof setTimeout> | undefined;
    const server: ServerSocket = {
      // Once open, send() on a closing or closed socket is a no-op; it never throws.
      // The native socket sends bytes as binary frames only: text held as bytes is decoded.
      send: (frame, binary = typeof frame !== "string") =>
        socket.send(binary || typeof frame === "string" ? frame : decoder.decode(frame)),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      // Lingering close: if the peer is still sending, the engine would close the TCP
      // connection with unread data and the kernel would answer with a reset, which
      // destroys our close frame before the peer reads it. So wait until the peer has
      // been quiet for a moment (at most a second), then close.
      close: (code, reason) => {
        if (closeRequested) return;
        closeRequested = true;
        const started = performance.now();
        const attempt = () => {
          const now = performance.now();
          if (now - lastInbound < QUIET_MS && now - started < MAX_LINGER_MS) {
            lingering = setTimeout(attempt, QUIET_MS);
          } else if (socket.readyState < WebSocket.CLOSING) {
            socket.close(code, reason);
          }
        };
        attempt();
      },
    };
    let closed = false;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => handlers.onOpen(server);
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      lastInbound = performance.now();
      handlers.onMessage(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
    };
    socket.onclose = (event) => {
      clearTimeout(lingering);
      clearTimeout(errorTimer);
      // Drop our handlers: the runtime may keep the WebSocket object around after
      // close, and everything its handlers reach (the session, its queue) with it.
      socket.onopen =
        socket.onmessage =
        socket.onerror =
        socket.onclose =
          null;
      if (closed) return;
      closed = true;
      handlers.onClose(event.code, event.reason);
    };
    // An error is followed by a close event; the timer covers engines that skip it.
    socket.onerror = () => {
      errorTimer ??= setTimeout(() => {
        if (closed) return;
        closed = true;
        handlers.onClose(1006, "socket error");
      }, 1000);
    };
    return response;
  }
}
