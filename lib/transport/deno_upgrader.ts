import type { ServerSocket, SocketHandlers, UpgradeOptions, Upgrader } from "./socket.ts";
import {
  type EngineErrorHandler,
  guardHandlers,
  HANDLER_FAILED,
  logEngineError,
  reportEngineError,
} from "./engine_errors.ts";
import { checkHandshake, refusalResponse, wantsWebSocket } from "./handshake.ts";

const QUIET_MS = 50;
const MAX_LINGER_MS = 1000;
const decoder = new TextDecoder();

/** Options of {@linkcode DenoUpgrader}. */
export interface DenoUpgraderOptions {
  /** WebSocket-level ping timeout in seconds, 0 to disable. @default {120} */
  idleTimeoutSec?: number;
  /**
   * How long an answered upgrade may take to open. The runtime reports
   * nothing for a client that left before its request was answered, so past
   * this the upgrade stops counting in {@linkcode DenoUpgrader.pending}, its
   * socket is dropped and `onClose(1006)` called.
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
  /**
   * Receives what a handler threw; that connection is closed with 1011 and
   * the others go on.
   * @default {logEngineError}
   */
  onError?: EngineErrorHandler;
}

/** A request handler, as `Deno.serve` takes one. */
export type FetchHandler<A extends unknown[]> = (
  request: Request,
  ...rest: A
) => Response | Promise<Response>;

/**
 * The native engine: `Deno.upgradeWebSocket`. Fastest per delivery; does not
 * negotiate permessage-deflate.
 *
 * @example
 * ```ts
 * import { DenoUpgrader } from "./deno_upgrader.ts";
 * const upgrader = new DenoUpgrader();
 * Deno.serve({ port: 0, onListen() {} }, upgrader.track((req) =>
 *   upgrader.upgrade(req, {}, {
 *     onOpen: (socket) => socket.send("hello"),
 *     onMessage: () => {},
 *     onClose: () => {},
 *   }))).shutdown();
 * ```
 */
export class DenoUpgrader implements Upgrader {
  readonly name = "deno";
  readonly #idleTimeout: number;
  readonly #handshakeTimeoutMs: number;
  readonly #onError: EngineErrorHandler;
  /**
   * Upgrade requests {@linkcode DenoUpgrader.track} passed to the app, not yet
   * upgraded: `false` while the app's synchronous part runs, `true` once counted.
   */
  readonly #tracked = new WeakMap<Request, boolean>();
  #inProgress = 0;

  /**
   * @param options the options, or (the older form) the idle timeout in seconds.
   */
  constructor(options: DenoUpgraderOptions | number = {}) {
    const o = typeof options === "number" ? { idleTimeoutSec: options } : options;
    this.#idleTimeout = o.idleTimeoutSec ?? 120;
    this.#handshakeTimeoutMs = o.handshakeTimeoutMs ?? 10_000;
    this.#onError = o.onError ?? logEngineError;
  }

  /**
   * Upgrade requests in progress (see {@linkcode Upgrader.pending}): when
   * the server's handler went through {@linkcode DenoUpgrader.track}, counted
   * once the app's handler has run to its first `await` (otherwise from
   * {@linkcode DenoUpgrader.upgrade}), until the connection opens, is
   * refused, or drops.
   */
  get pending(): number {
    return this.#inProgress;
  }

  /**
   * Wraps the server's handler so that WebSocket upgrade requests count in
   * {@linkcode DenoUpgrader.pending} from the end of the app's synchronous
   * part (where its limit check runs), not only once it calls
   * {@linkcode DenoUpgrader.upgrade} after its awaits: concurrent upgrades
   * then see each other.
   */
  track<A extends unknown[]>(
    fetch: FetchHandler<A>,
  ): (request: Request, ...rest: A) => Promise<Response> {
    return async (request, ...rest) => {
      if (!wantsWebSocket((name) => request.headers.get(name))) {
        return await fetch(request, ...rest);
      }
      this.#tracked.set(request, false);
      let answering;
      try {
        answering = fetch(request, ...rest);
      } catch (error) {
        this.#tracked.delete(request);
        throw error;
      }
      // Counted once the app's synchronous part (its limit check) has run: it sees every
      // other upgrade in flight, not its own. Unless it upgraded already (counted there).
      if (this.#tracked.has(request)) {
        this.#tracked.set(request, true);
        this.#inProgress++;
      }
      try {
        return await answering;
      } finally {
        // Still there: the app refused (upgrade() takes the count over otherwise).
        if (this.#tracked.delete(request)) this.#inProgress--;
      }
    };
  }

  /**
   * Answers an upgrade request: 101, or, for a handshake that breaks RFC 6455
   * §4.2.1, 400 (426 for a version other than 13) with a JSON body.
   */
  upgrade(request: Request, options: UpgradeOptions, handlers: SocketHandlers): Response {
    const refused = checkHandshake((name) => request.headers.get(name));
    if (refused) return refusalResponse(refused);
    // Counted already by track(), or from now on.
    const tracked = this.#tracked.get(request) === true;
    this.#tracked.delete(request);
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(request, {
        protocol: options.protocol,
        idleTimeout: this.#idleTimeout,
      });
    } catch (error) {
      if (tracked) this.#inProgress--;
      reportEngineError(this.#onError, error, "upgrade");
      return refusalResponse({ status: 400, message: "WebSocket handshake refused" });
    }
    if (!tracked) this.#inProgress++;
    let counted = true;
    const settle = () => {
      if (counted) this.#inProgress--;
      counted = false;
      clearTimeout(opening);
    };
    const { socket, response } = upgraded;
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
    const guarded = guardHandlers(
      handlers,
      this.#onError,
      () => server.close(HANDLER_FAILED.code, HANDLER_FAILED.reason),
    );
    let closed = false;
    // Drop our handlers: the runtime may keep the WebSocket object around after
    // close, and everything its handlers reach (the session, its queue) with it.
    const detach = () => {
      socket.onopen =
        socket.onmessage =
        socket.onerror =
        socket.onclose =
          null;
    };
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      settle();
      guarded.onOpen(server);
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      lastInbound = performance.now();
      guarded.onMessage(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
    };
    socket.onclose = (event) => {
      settle();
      clearTimeout(lingering);
      clearTimeout(errorTimer);
      detach();
      if (closed) return;
      closed = true;
      guarded.onClose(event.code, event.reason);
    };
    // An error is followed by a close event; the timer covers engines that skip it.
    socket.onerror = () => {
      errorTimer ??= setTimeout(() => {
        settle();
        if (closed) return;
        closed = true;
        guarded.onClose(1006, "socket error");
      }, 1000);
    };
    // A client gone before its request was answered gets neither an open nor a close event.
    const opening = setTimeout(() => {
      if (!counted) return;
      settle();
      detach();
      try {
        socket.close();
      } catch {
        // not open: nothing to close
      }
      if (closed) return;
      closed = true;
      guarded.onClose(1006, "opening handshake timed out");
    }, this.#handshakeTimeoutMs);
    return response;
  }
}
