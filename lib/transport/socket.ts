/**
 * What the hub knows of a WebSocket engine: a socket it can send to and close,
 * and an upgrader that turns an HTTP request into one. Engines (native Deno,
 * `npm:ws`) implement these; the hub never imports an engine.
 *
 * @module
 */

/** The server side of one WebSocket connection. */
export interface ServerSocket {
  /**
   * Queues one frame. A string goes out as a text frame; bytes go out as a
   * binary frame, or, with `binary` false, as a text frame whose payload they
   * are (UTF-8: how the hub holds JSON frames, encoded once for every client).
   * Never blocks.
   *
   * @param binary whether the frame is binary. @default {typeof frame !== "string"}
   */
  send(frame: string | Uint8Array, binary?: boolean): void;
  /**
   * Queues one message compressed by the caller (RFC 7692 permessage-deflate:
   * raw DEFLATE, no context takeover, the final `00 00 ff ff` removed) with
   * RSV1 set, as a text or binary frame. Present only when the connection
   * negotiated permessage-deflate with `server_no_context_takeover`, so the
   * same compressed bytes can go to every such client. Never blocks.
   */
  sendDeflated?(payload: Uint8Array, binary: boolean): void;
  /**
   * Bytes handed to `send` that the engine has not yet written to the kernel.
   * Rises only once the kernel's socket buffers are full.
   */
  readonly bufferedAmount: number;
  /**
   * Queues an RFC 6455 ping frame carrying `data` (at most 125 bytes), in
   * order with the data frames sent before it; the peer's pong comes back
   * through {@linkcode SocketHandlers.onPong}. Present only on engines that
   * expose ping/pong (`npm:ws`); `Deno.upgradeWebSocket` does not. Never blocks.
   */
  ping?(data: Uint8Array): void;
  /** Starts the closing handshake. Never blocks. */
  close(code: number, reason: string): void;
}

/** Callbacks an engine calls for one connection. */
export interface SocketHandlers {
  /** The handshake completed; `socket` may be used from now on. */
  onOpen(socket: ServerSocket): void;
  /** One whole inbound message. */
  onMessage(data: string | Uint8Array): void;
  /** An RFC 6455 pong arrived, with its application data (engines with `ping` only). */
  onPong?(data: Uint8Array): void;
  /** The connection is gone (closed by either side, or failed). Called once. */
  onClose(code: number, reason: string): void;
}

/** Per-connection options for {@linkcode Upgrader.upgrade}. */
export interface UpgradeOptions {
  /** The subprotocol to accept (echoed in `Sec-WebSocket-Protocol`). */
  protocol?: string;
  /**
   * The server's bindings for this request (Hono's `c.env`); the `npm:ws`
   * engine finds its `node:http` request there.
   */
  env?: unknown;
}

/** Turns an HTTP upgrade request into a WebSocket connection. */
export interface Upgrader {
  /** Engine name, shown in logs and `/healthz`. */
  readonly name: string;
  /**
   * WebSocket upgrade requests in progress, neither open yet nor refused.
   * One is counted as soon as the app's handler for it has run to its first
   * `await`: a connection limit checked there, before any await, as
   * `clientCount + (upgrader.pending ?? 0) >= maxConnections`, sees every
   * other upgrade in flight but not its own request, so a burst of
   * concurrent upgrades cannot overshoot it. (Checked after an await, the
   * request counts itself and the limit is one lower.) Absent on engines
   * that do not count.
   */
  readonly pending?: number;
  /** Answers the upgrade request; `handlers` then receive the connection's events. */
  upgrade(request: Request, options: UpgradeOptions, handlers: SocketHandlers): Response;
}
