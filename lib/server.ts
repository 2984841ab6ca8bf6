/**
 * Starts a Floodgate server from settings: the hub, the bus, the engine, the
 * HTTP app and `Deno.serve`, wired together. `main.ts` and the integration
 * tests both use it.
 *
 * @module
 */
import type { Bus } from "./bus/bus.ts";
import { MemoryBus } from "./bus/bus_memory.ts";
import type { Settings } from "./config/settings.ts";
import { Authenticator } from "./auth/authenticator.ts";
import { webAssetsLoader } from "./dashboard/assets.ts";
import { createApp } from "./http/app.ts";
import { FrameCompressor } from "./hub/frame_compressor.ts";
import { KeyedRateLimiter } from "./limits/keyed_rate_limiter.ts";
import { Hub } from "./hub/hub.ts";
import { Logger } from "./log/logger.ts";
import { startMemoryGuard } from "./memory/memory_guard.ts";
import { MemoryLedger } from "./memory/memory_ledger.ts";
import { StateReads } from "./http/state_reads.ts";
import { TrustedProxies } from "./http/client_address.ts";
import { startMetricsTopic } from "./metrics/metrics_topic.ts";
import { startSummaryLog } from "./metrics/summary.ts";
import { DenoUpgrader } from "./transport/deno_upgrader.ts";
import type { Upgrader } from "./transport/socket.ts";
import { WsUpgrader } from "./transport/ws_upgrader.ts";
import { serveDeno, serveNode } from "./transport/listeners.ts";
import type { EngineErrorHandler } from "./transport/engine_errors.ts";
import { fdSoftLimit, socketBudget } from "./transport/fd_limit.ts";

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
  const onError: EngineErrorHandler = (error, where) =>
    logger.error("engine.error", { where, error });
  const history = {
    maxMessages: settings.historySize,
    maxBytes: settings.historyBytes,
    maxAgeMs: settings.historyTtlMs,
  };
  const bus = parts.bus ?? (settings.redisUrl
    // Loaded only when configured: the Redis client costs ~20 MB of resident memory.
    ? await (await import("./bus/bus_redis.ts")).RedisBus.connect({
      url: settings.redisUrl,
      prefix: settings.redisPrefix,
      logger,
      history,
      maxTopics: settings.maxTopics,
      maxKeysPerTopic: settings.maxKeysPerTopic,
    })
    : new MemoryBus({
      history,
      maxTopics: settings.maxTopics,
      maxKeysPerTopic: settings.maxKeysPerTopic,
    }));
  // npm:ws on node:http has ping/pong (flow control for plain clients) and permessage-deflate;
  // the native engine has neither (BENCHMARKS.md compares the two).
  const upgrader = parts.upgrader ??
    (settings.engine === "deno"
      ? new DenoUpgrader({
        idleTimeoutSec: idleTimeoutSec(settings),
        handshakeTimeoutMs: settings.handshakeTimeoutMs,
        onError,
      })
      : new WsUpgrader({
        compression: settings.compression,
        // The hub refuses frames over --max-inbound-bytes with a reason naming the flag; the
        // engine cuts off, without buffering them, only frames far beyond it.
        maxPayload: 2 * settings.maxInboundBytes + (64 << 10),
        threshold: settings.compressionThreshold,
        level: settings.compressionLevel,
        onError,
      }));
  const compressor = settings.compression === "deflate"
    ? new FrameCompressor({
      threshold: settings.compressionThreshold,
      level: settings.compressionLevel,
      budgetBytesPerSec: settings.compressionBudget,
    })
    : undefined;
  const proxies = TrustedProxies.parse(settings.trustedProxies);
  const authenticator = new Authenticator({
    adminToken: settings.adminToken,
    publishToken: settings.publishToken,
    jwtSecret: settings.jwtSecret,
    allowedOrigins: settings.allowedOrigins.split(",").map((o) => o.trim()).filter(Boolean),
  });
  const publishLimiter = new KeyedRateLimiter(settings.publishRate);
  const ledger = new MemoryLedger(settings.memoryBudget);
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
      maxLagMs: settings.maxLagMs,
      maxFrameBytes: settings.maxFrameBytes,
    },
    heartbeatMs: settings.heartbeatMs,
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    maxInboundBytes: settings.maxInboundBytes,
    maxTopicsPerClient: settings.maxTopicsPerClient,
    maxInboundRate: settings.maxInboundRate,
    publishLimiter,
    slowFanoutMs: settings.slowFanoutMs,
    chunkBytes: settings.chunkBytes,
    maxMessageBytes: settings.maxMessageBytes,
    maxReassemblyBytes: settings.maxReassemblyBytes,
    reassemblyTimeoutMs: settings.reassemblyTimeoutMs,
    compressor,
    overloaded: () => ledger.pressure === "overloaded",
  });
  // State responses in flight may take up to an eighth of the budget.
  const stateReads = new StateReads({ maxBytes: Math.max(1 << 20, settings.memoryBudget / 8) });
  ledger.register("queues", () => hub.queuedBytes());
  // One read of the bus per update: the ledger reads "history" before "state".
  let busHeld = { history: 0, state: 0 };
  ledger.register("history", () => (busHeld = bus.held(Date.now())).history);
  ledger.register("state", () => busHeld.state);
  ledger.register("reassembly", () => hub.reassemblyBytes());
  // Snapshot frames cached and state responses in flight (a frame in both is counted twice).
  ledger.register("state_reads", () => stateReads.heldBytes + hub.snapshotCacheBytes());
  const stopMemoryGuard = startMemoryGuard({ ledger, shedder: hub, logger });
  // prom-client is loaded on the first scrape (see AppOptions.metrics).
  const metrics = async () =>
    (await import("./metrics/metrics.ts")).createMetrics(
      hub,
      {
        max_connections: settings.maxConnections,
        max_inbound_rate: settings.maxInboundRate,
        publish_rate: settings.publishRate,
        max_topics_per_client: settings.maxTopicsPerClient,
        max_topics: settings.maxTopics,
        max_keys_per_topic: settings.maxKeysPerTopic,
        max_inbound_bytes: settings.maxInboundBytes,
        max_body_bytes: settings.maxBodyBytes,
        max_queue_messages: settings.maxQueueMessages,
        max_queue_bytes: settings.maxQueueBytes,
        history_size: settings.historySize,
        history_bytes: settings.historyBytes,
        memory_budget: settings.memoryBudget,
      },
      bus,
      ledger,
    );
  const app = createApp({
    hub,
    bus,
    metrics,
    upgrader,
    logger,
    maxBodyBytes: settings.maxBodyBytes,
    authenticator,
    publishLimiter,
    maxConnections: settings.maxConnections,
    web: webAssetsLoader(),
    memory: ledger,
    stateReads,
    clientAddressOf: proxies.empty ? undefined : proxies.clientAddress,
  });
  const stopSummary = startSummaryLog(hub, logger, settings.statsIntervalMs);

  const server = upgrader instanceof WsUpgrader
    ? await serveNode(app, upgrader, {
      port: settings.port,
      hostname: settings.hostname,
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      onError,
    })
    : serveDeno(app, { port: settings.port, hostname: settings.hostname, upgrader, onError });
  const host = server.hostname === "0.0.0.0" ? "127.0.0.1" : server.hostname;
  const url = `http://${host}:${server.port}`;
  const stopMetricsTopic = startMetricsTopic(hub, {
    intervalMs: settings.metricsIntervalMs,
    instance: `${server.hostname}:${server.port}`,
    logger,
    memory: ledger,
  });
  logger.info("server.listen", {
    url,
    mode: settings.mode,
    engine: upgrader.name,
    bus: bus.name,
    epoch: bus.epoch,
    flushMs: settings.flushMs,
  });
  const sockets = socketBudget();
  if (sockets !== undefined && settings.maxConnections > sockets) {
    logger.warn("fd.limit", {
      message:
        `--max-connections ${settings.maxConnections} is above the ${sockets} sockets the file-descriptor limit leaves (ulimit -n ${fdSoftLimit()}): raise the limit or lower --max-connections`,
      maxConnections: settings.maxConnections,
      sockets,
    });
  }
  if (authenticator.open) {
    logger.warn("auth.open", {
      message:
        "No --publish-token, --jwt-secret or --allowed-origins: anyone can publish and subscribe. Fine for local development only.",
    });
  }
  if (authenticator.adminOpen) {
    logger.warn("auth.admin_open", {
      message: "/stats and /metrics are open to anyone: set --admin-token before exposing them",
    });
  } else if (authenticator.adminAccess === "closed") {
    logger.warn("auth.admin_closed", {
      message: "/stats and /metrics refuse every request: set --admin-token to read them",
    });
  }
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
        stopMetricsTopic();
        stopMemoryGuard();
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

/**
 * The native engine's own WebSocket-level liveness check: it pings a
 * connection idle this many seconds and closes it when no pong follows. The
 * hub cannot see those pings, so it is the heartbeat timeout (rounded up).
 */
function idleTimeoutSec(settings: Settings): number {
  return Math.max(1, Math.ceil(settings.heartbeatTimeoutMs / 1000));
}
