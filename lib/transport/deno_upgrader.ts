import type { ServerSocket, SocketHandlers, UpgradeOptions, Upgrader } from "./socket.ts";

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
    const server: ServerSocket = {
      // Once open, send() on a closing or closed socket is a no-op; it never throws.
      send: (frame) => socket.send(frame),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      close: (code, reason) => {
        if (socket.readyState < WebSocket.CLOSING) socket.close(code, reason);
      },
    };
    let closed = false;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => handlers.onOpen(server);
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) =>
      handlers.onMessage(
        typeof event.data === "string" ? event.data : new Uint8Array(event.data),
      );
    socket.onclose = (event) => {
      if (closed) return;
      closed = true;
      handlers.onClose(event.code, event.reason);
    };
    // An error is followed by a close event; the timer covers engines that skip it.
    socket.onerror = () => {
      setTimeout(() => {
        if (closed) return;
        closed = true;
        handlers.onClose(1006, "socket error");
      }, 1000);
    };
    return response;
  }
}
