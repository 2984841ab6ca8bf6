/**
 * Starts a Floodgate server from settings: the hub, the bus, the engine, the
 * HTTP app and `Deno.serve`, wired together. `main.ts` and the integration
 * tests both use it.
 *
 * @module
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import type { Bus } from "./bus/bus.ts";
import { MemoryBus } from "./bus/bus_memory.ts";
import type { Settings } from "./config/settings.ts";
import { createApp } from "./http/app.ts";
import { FrameCompressor } from "./hub/frame_compressor.ts";
import { Hub } from "./hub/hub.ts";
import { Logger } from "./log/logger.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { startSummaryLog } from "./metrics/summary.ts";
import { DenoUpgrader } from "./transport/deno_upgrader.ts";
import type { Upgrader } from "./transport/socket.ts";
import { WsUpgrader } from "./transport/ws_upgrader.ts";

/** A running server. */
export interface FloodgateServer {
  /** `http://host:port` of the listener. */
  readonly url: string;
  readonly port: number;
  readonly hub: Hub;
  readonly bus: Bus;
  /** Flushes queues (up to the shutdown timeout), closes clients with 1001, stops listening. */
  shutdown(): Promise<void>;
  /** Resolves when the listener has stopped. */
  readonly finished: Promise<void>;
}

/** Parts to use instead of the defaults. */
export interface ServerParts {
  logger?: Logger;
  bus?: Bus;
  upgrader?: Upgrader;
}

/**
 * Starts a server. Port 0 picks a free port (see `url`).
 *
 * @example
 * ```ts ignore
 * import { defaultSettings } from "./config/settings.ts";
 * const server = await startServer({ ...defaultSettings(), port: 0, logLevel: "warn" });
 * await fetch(`${server.url}/healthz`);
 * await server.shutdown();
 * ```
 */
export async function startServer(
  settings: Settings,
  parts: ServerParts = {},
): Promise<FloodgateServer> {
  const logger = parts.logger ?? new Logger({ level: settings.logLevel });
  const bus = parts.bus ?? new MemoryBus();
  // Native Deno is the faster engine; permessage-deflate needs npm:ws on node:http.
  const upgrader = parts.upgrader ??
    (settings.compression === "off" ? new DenoUpgrader() : new WsUpgrader({
      compression: settings.compression,
      maxPayload: settings.maxInboundBytes,
      threshold: settings.compressionThreshold,
      level: settings.compressionLevel,
    }));
  const compressor = settings.compression === "deflate"
    ? new FrameCompressor({
      threshold: settings.compressionThreshold,
      level: settings.compressionLevel,
      budgetBytesPerSec: settings.compressionBudget,
    })
    : undefined;
  const hub = new Hub({
    bus,
    logger,
    mode: settings.mode,
    flushMs: settings.flushMs,
    queue: {
      maxMessages: settings.maxQueueMessages,
      maxBytes: settings.maxQueueBytes,
      slowTimeoutMs: settings.slowTimeoutMs,
      dropLimit: settings.dropLimit,
      dropWindowMs: settings.dropWindowMs,
    },
    flow: {
      highWaterBytes: settings.highWaterBytes,
      lowWaterBytes: settings.lowWaterBytes,
      maxInflightBytes: settings.maxInflightBytes,
      maxFrameBytes: settings.maxFrameBytes,
    },
    heartbeatMs: settings.heartbeatMs,
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    maxInboundBytes: settings.maxInboundBytes,
    maxTopicsPerClient: settings.maxTopicsPerClient,
    slowFanoutMs: settings.slowFanoutMs,
    chunkBytes: settings.chunkBytes,
    maxMessageBytes: settings.maxMessageBytes,
    maxReassemblyBytes: settings.maxReassemblyBytes,
    reassemblyTimeoutMs: settings.reassemblyTimeoutMs,
    compressor,
  });
  const metrics = createMetrics(hub);
  const app = createApp({
    hub,
    bus,
    metrics,
    upgrader,
    logger,
    maxBodyBytes: settings.maxBodyBytes,
  });
  const stopSummary = startSummaryLog(hub, logger, settings.statsIntervalMs);

  const server = upgrader instanceof WsUpgrader
    ? await serveNode(app, upgrader, settings)
    : serveDeno(app, settings);
  const host = server.hostname === "0.0.0.0" ? "127.0.0.1" : server.hostname;
  const url = `http://${host}:${server.port}`;
  logger.info("server.listen", {
    url,
    mode: settings.mode,
    engine: upgrader.name,
    bus: bus.name,
    epoch: bus.epoch,
    flushMs: settings.flushMs,
  });
  let shuttingDown: Promise<void> | undefined;
  return {
    url,
    port: server.port,
    hub,
    bus,
    finished: server.finished,
    shutdown() {
      shuttingDown ??= (async () => {
        logger.info("server.shutdown", { clients: hub.clientCount });
        stopSummary();
        await hub.shutdown(settings.shutdownTimeoutMs);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          server.shutdown(),
          new Promise((r) => (timer = setTimeout(r, settings.shutdownTimeoutMs))),
        ]);
        clearTimeout(timer);
        await bus.close();
        logger.info("server.stopped", {});
      })();
      return shuttingDown;
    },
  };
}

/** A listener serving the app. */
interface Listener {
  readonly hostname: string;
  readonly port: number;
  readonly finished: Promise<void>;
  /** Stops accepting; resolves when open connections have ended. */
  shutdown(): Promise<void>;
}

function serveDeno(app: Hono, settings: Settings): Listener {
  const server = Deno.serve(
    { port: settings.port, hostname: settings.hostname, onListen() {} },
    app.fetch,
  );
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}

/** `node:http` with Hono through `@hono/node-server`, and the `ws` engine on its upgrades. */
async function serveNode(app: Hono, upgrader: WsUpgrader, settings: Settings): Promise<Listener> {
  const server = createServer(getRequestListener(app.fetch));
  upgrader.attach(server, (request, env) => app.fetch(request, env));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.hostname, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const finished = new Promise<void>((resolve) => server.once("close", () => resolve()));
  return {
    hostname: addr.address,
    port: addr.port,
    finished,
    shutdown() {
      server.close();
      server.closeAllConnections();
      return finished;
    },
  };
}
