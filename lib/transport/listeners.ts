/**
 * The TCP listeners that serve the app: `node:http` for the `ws` engine,
 * `Deno.serve` for the native one. Both are hardened against clients: a
 * connection that does not send a whole request in time is closed (`node:http`
 * only, see {@linkcode serveDeno}), and running out of file descriptors
 * (EMFILE) does not end the process or the listener.
 *
 * What EMFILE does to each in Deno 2.9.6, and what is done about it:
 * - `node:http` (Deno's `uv_compat` TCP, `poll_tcp_handle`): an `accept`
 *   that fails is dropped without an `error` event and the listener never
 *   accepts again, while the process lives on, deaf. {@linkcode serveNode}
 *   keeps it from getting there: `server.maxConnections` caps the open
 *   sockets at {@linkcode socketBudget} (connections past it are accepted
 *   and closed at once). Should descriptors run out anyway (taken elsewhere),
 *   a probe finds the stalled listener and it listens again (see
 *   `acceptProbeMs`).
 * - `Deno.serve`: the accept loop ends and `finished` rejects with
 *   `Http: Too many open files`, which killed the process as an unhandled
 *   rejection. Open WebSockets survive it. {@linkcode serveDeno} reports it
 *   and listens again on the same port, retrying until descriptors are free;
 *   in between, new connections are refused.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import { DenoUpgrader } from "./deno_upgrader.ts";
import { type EngineErrorHandler, logEngineError, reportEngineError } from "./engine_errors.ts";
import { socketBudget } from "./fd_limit.ts";
import type { Upgrader } from "./socket.ts";
import type { WsUpgrader } from "./ws_upgrader.ts";

/** A listener serving the app. */
export interface Listener {
  readonly hostname: string;
  readonly port: number;
  /** Resolves when the listener has stopped (after {@linkcode Listener.shutdown}). */
  readonly finished: Promise<void>;
  /** Stops accepting; resolves when open connections have ended. */
  shutdown(): Promise<void>;
}

/** Where to listen, and what to do with errors the listener survives. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one (see {@linkcode Listener.port}). */
  port: number;
  /** Address to listen on. */
  hostname: string;
  /** Receives errors the listener caught and survived. @default {logEngineError} */
  onError?: EngineErrorHandler;
}

/** Options of {@linkcode serveNode}. */
export interface NodeListenOptions extends ListenOptions {
  /**
   * A connection that has not sent a whole HTTP request (or upgrade request)
   * within this many milliseconds of connecting, or of its previous response,
   * is answered 408 and closed.
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
  /**
   * Most open TCP connections (plain HTTP and WebSocket alike); past it a new
   * connection is accepted and closed at once. 0 for no cap.
   * @default {socketBudget()} (no cap where the descriptor limit is unknown)
   */
  maxSockets?: number;
  /**
   * When no connection has arrived for this many milliseconds, connect to
   * the listener once; if that connection is not accepted within a second,
   * the listener has stalled (EMFILE) and listens again. 0 to disable.
   * @default {5000}
   */
  acceptProbeMs?: number;
}

/** Options of {@linkcode serveDeno}. */
export interface DenoListenOptions extends ListenOptions {
  /**
   * The engine. A {@linkcode DenoUpgrader} then counts upgrade requests in
   * its `pending` from their arrival (see {@linkcode DenoUpgrader.track}).
   */
  upgrader?: Upgrader;
}

/** Answer to a request that arrives before headers are complete, as `node:http` writes it. */
const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
/** `node:http`'s default request timeout, kept for whole requests (bodies included). */
const REQUEST_TIMEOUT_MS = 300_000;
/** How long a probe connection may wait to be accepted by a live listener. */
const PROBE_TIMEOUT_MS = 1000;
const RESTART_MIN_MS = 50;
const RESTART_MAX_MS = 1000;

/**
 * Serves `app` on `node:http` through `@hono/node-server`, with `upgrader`
 * (the `ws` engine) on its upgrades.
 *
 * @throws when the port cannot be listened on (in use, address unavailable).
 */
export async function serveNode(
  app: Hono,
  upgrader: WsUpgrader,
  options: NodeListenOptions,
): Promise<Listener> {
  const onError = options.onError ?? logEngineError;
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const server = createServer(
    {
      // node:http's own check: it covers the requests after the first on a kept-alive
      // connection, to within connectionsCheckingInterval.
      headersTimeout: timeoutMs,
      requestTimeout: Math.max(timeoutMs, REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: Math.min(5000, Math.max(100, Math.ceil(timeoutMs / 4))),
    },
    // Keep the platform's own Request and Response: the listener would otherwise replace them globally.
    getRequestListener(app.fetch, { overrideGlobalObjects: false }),
  );
  const maxSockets = options.maxSockets ?? socketBudget();
  if (maxSockets) server.maxConnections = maxSockets;
  closeSlowRequests(server, timeoutMs);
  upgrader.attach(server, (request, env) => app.fetch(request, env));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => reportEngineError(onError, error, "listener"));
  // A TCP server's address is an AddressInfo (a string only for pipes).
  const addr = server.address() as AddressInfo;
  let stopping = false;
  // The server also closes to listen again (see keepAccepting): only shutdown finishes it.
  const finished = new Promise<void>((resolve) =>
    server.on("close", () => {
      if (stopping) resolve();
    })
  );
  const stopProbing = keepAccepting(server, addr, onError, options.acceptProbeMs ?? 5000);
  return {
    hostname: addr.address,
    port: addr.port,
    finished,
    shutdown() {
      stopping = true;
      stopProbing();
      upgrader.close();
      server.close();
      server.closeAllConnections();
      return finished;
    },
  };
}

/**
 * Deno 2.9.6's `node:net` drops an `accept` that fails (EMFILE) without an
 * `error` event, and its listener never accepts again. The cap keeps client
 * sockets from getting there, but descriptors taken elsewhere still can, so:
 * when no connection has arrived for `quietMs`, connect to the listener; a
 * connection it does not accept within {@linkcode PROBE_TIMEOUT_MS} (queued,
 * or dropped because the queue is full) means it has stalled, and it listens
 * again on the same address (open connections are kept; connections queued
 * on the stalled one are lost).
 *
 * @returns stops probing.
 */
function keepAccepting(
  server: Server,
  addr: AddressInfo,
  onError: EngineErrorHandler,
  quietMs: number,
): () => void {
  if (quietMs <= 0) return () => {};
  const host = addr.address === "0.0.0.0"
    ? "127.0.0.1"
    : addr.address === "::"
    ? "::1"
    : addr.address;
  let accepts = 0;
  let seen = accepts;
  let quietSince = performance.now();
  let probe: Socket | undefined;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  const relisten = () => {
    server.close();
    server.listen(addr.port, addr.address);
  };
  const endProbe = () => {
    clearTimeout(probeTimer);
    probe?.destroy();
    probe = undefined;
  };
  // Any connection accepted (the probe's or another) shows the listener alive.
  server.on("connection", () => {
    accepts++;
    if (probe) endProbe();
  });
  const tick = setInterval(() => {
    const now = performance.now();
    if (accepts !== seen) {
      seen = accepts;
      quietSince = now;
    }
    if (probe || now - quietSince < quietMs) return;
    if (!server.listening) {
      // An earlier listen again failed (still out of descriptors): try again.
      relisten();
      return;
    }
    const before = accepts;
    probe = connect({ port: addr.port, host });
    // Our own connect failing (EMFILE here too) says nothing about the listener.
    probe.on("error", endProbe);
    // Not accepted in time, whether connected (queued) or not (the queue is full of
    // connections nobody accepts, so the kernel drops the SYN): stalled.
    probeTimer = setTimeout(() => {
      endProbe();
      if (accepts !== before || !server.listening) return;
      reportEngineError(
        onError,
        new Error(
          `the listener on port ${addr.port} stopped accepting (out of file descriptors?); listening again`,
        ),
        "listener",
      );
      relisten();
    }, PROBE_TIMEOUT_MS);
    quietSince = now;
  }, Math.min(quietMs, 1000));
  return () => {
    clearInterval(tick);
    endProbe();
  };
}

/**
 * Closes connections that have not sent a whole request within `timeoutMs` of
 * connecting: an idle TCP connection, a partial request, or headers sent a
 * byte at a time. A timer per connection, cleared by its first request or upgrade.
 */
function closeSlowRequests(server: Server, timeoutMs: number): void {
  const timers = new WeakMap<Socket, ReturnType<typeof setTimeout>>();
  server.on("connection", (socket: Socket) => {
    timers.set(
      socket,
      setTimeout(() => {
        if (!socket.destroyed) socket.write(REQUEST_TIMEOUT, () => socket.destroy());
      }, timeoutMs),
    );
    socket.once("close", () => clearTimeout(timers.get(socket)));
  });
  const complete = (request: IncomingMessage) => clearTimeout(timers.get(request.socket));
  server.on("request", complete);
  server.on("upgrade", complete);
}

/**
 * Serves `app` on `Deno.serve`. When the listener dies (EMFILE ends its
 * accept loop), the error goes to `onError` and it listens again on the same
 * port, retrying with backoff until it can.
 *
 * `Deno.serve` has no header timeout and no hook on raw connections: an
 * idle connection or a partial request stays open until the client leaves
 * (measured: over 70 s). Put a proxy with a header timeout in front, or use
 * the `ws` engine, where {@linkcode NodeListenOptions.handshakeTimeoutMs} applies.
 *
 * @throws when the port cannot be listened on at first (in use, address unavailable).
 */
export function serveDeno(app: Hono, options: DenoListenOptions): Listener {
  const onError = options.onError ?? logEngineError;
  const base: Deno.ServeHandler<Deno.NetAddr> = (request, info) => app.fetch(request, info);
  const handler = options.upgrader instanceof DenoUpgrader ? options.upgrader.track(base) : base;
  const serve = (port: number) =>
    Deno.serve({
      port,
      hostname: options.hostname,
      onListen() {},
      onError(error) {
        reportEngineError(onError, error, "listener");
        return Response.json(
          { error: { code: "internal", message: "Internal server error; see the server log" } },
          { status: 500 },
        );
      },
    }, handler);
  let current: Deno.HttpServer<Deno.NetAddr> | undefined = serve(options.port);
  const { hostname, port } = current.addr;
  let stopping = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let delay = RESTART_MIN_MS;
  let failures = 0;
  let stopped!: () => void;
  const finished = new Promise<void>((resolve) => (stopped = resolve));
  const watch = (server: Deno.HttpServer<Deno.NetAddr>) => {
    const lost = (error: unknown) => {
      if (current === server) current = undefined;
      if (stopping) return stopped();
      reportEngineError(onError, error, "listener");
      retry = setTimeout(restart, delay);
    };
    server.finished.then(() => lost(new Error("Deno.serve stopped accepting")), lost);
  };
  const restart = () => {
    retry = undefined;
    if (stopping) return stopped();
    try {
      current = serve(port);
    } catch (error) {
      // Still out of descriptors (or the port was taken): report the first failure, retry.
      if (failures++ === 0) reportEngineError(onError, error, "listener");
      delay = Math.min(RESTART_MAX_MS, delay * 2);
      retry = setTimeout(restart, delay);
      return;
    }
    delay = RESTART_MIN_MS;
    failures = 0;
    watch(current);
  };
  watch(current);
  return {
    hostname,
    port,
    finished,
    async shutdown() {
      stopping = true;
      clearTimeout(retry);
      if (current) await current.shutdown();
      else stopped();
      return finished;
    },
  };
}
