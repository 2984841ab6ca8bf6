/**
 * The HTTP API as a Hono app: publish, state, health, stats, metrics, and the
 * WebSocket endpoint. Runtime-neutral: the WebSocket engine comes in as an
 * {@linkcode Upgrader}, so tests can drive every route with `app.request()`.
 *
 * @module
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { Context } from "hono";
import type { Bus } from "../bus/bus.ts";
import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { validateTopic } from "../protocol/topic_name.ts";
import type { Upgrader } from "../transport/socket.ts";
import { type Authenticator, AuthError } from "../auth/authenticator.ts";
import type { KeyedRateLimiter } from "../limits/keyed_rate_limiter.ts";
import type { WebAssets } from "../dashboard/assets.ts";
import type { MemoryLedger } from "../memory/memory_ledger.ts";
import { mountPublishRoute } from "./publish_route.ts";
import { type ClientAddressOf, errorResponse, remoteOf } from "./responses.ts";
import { mountSocketRoute } from "./socket_route.ts";
import { StateReads } from "./state_reads.ts";
import { mountStatusRoutes } from "./status_routes.ts";
import { mountWebRoutes } from "./web_routes.ts";

export { errorResponse } from "./responses.ts";

const utf8 = new TextEncoder();

/** What the app needs. */
export interface AppOptions {
  hub: Hub;
  bus: Bus;
  /**
   * The Prometheus registry, made on the first `GET /metrics` (prom-client
   * costs ~10 MB of resident memory a server that is never scraped need not pay).
   */
  metrics: () => Promise<Metrics>;
  upgrader: Upgrader;
  logger: Logger;
  /** Largest `POST /publish` body in bytes. @default {1048576} */
  maxBodyBytes?: number;
  /** Most items in one `POST /publish` array. @default {1000} */
  maxBatchItems?: number;
  /** Who may publish and subscribe. */
  authenticator: Authenticator;
  /** Publish rate per identity (shared with the hub). */
  publishLimiter: KeyedRateLimiter;
  /** Most WebSocket connections; more get 503. @default {10000} */
  maxConnections?: number;
  /** The dashboard page and scripts for `/`, `/client.js`, `/dashboard.js`; none without. */
  web?: () => Promise<WebAssets>;
  /** The memory ledger: refuses connections when overloaded, shown in `/stats` and `/healthz`. */
  memory?: MemoryLedger;
  /** State responses in flight. @default 64 MiB of them */
  stateReads?: StateReads;
  /** The client's address behind trusted proxies. @default the peer's address */
  clientAddressOf?: ClientAddressOf;
  /**
   * Guards `/stats` and `/metrics`: answers a request that may not read them,
   * undefined lets it through. @default the authenticator's admin check
   */
  admin?: (c: Context) => Promise<Response | undefined>;
}

/**
 * Builds the Floodgate Hono app.
 *
 * @example
 * ```ts ignore
 * const app = createApp({ hub, bus, metrics, upgrader, logger });
 * const res = await app.request("/healthz");
 * ```
 */
export function createApp(options: AppOptions): Hono {
  const { hub, bus, metrics, upgrader, logger, authenticator, publishLimiter } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
  const maxConnections = options.maxConnections ?? 10_000;
  const refuse = (c: Context, err: AuthError) => {
    hub.counters.reject(err.code);
    return errorResponse(c, err.status, err.code, err.message);
  };
  const maxBatchItems = options.maxBatchItems ?? 1000;
  const memory = options.memory;
  const stateReads = options.stateReads ?? new StateReads({ maxBytes: 64 << 20 });
  const overloaded = (c: Context, what: string) => {
    hub.counters.reject("overloaded");
    c.header("Retry-After", "1");
    return errorResponse(
      c,
      503,
      "overloaded",
      `${what}: the server is over its memory budget (--memory-budget); retry shortly`,
    );
  };
  const remote = (c: Context) => remoteOf(c, options.clientAddressOf);
  const adminCheck = async (c: Context): Promise<Response | undefined> => {
    try {
      await authenticator.admin(c.req.header("authorization"), c.req.query("token"));
      return undefined;
    } catch (err) {
      if (err instanceof AuthError) return refuse(c, err);
      throw err;
    }
  };
  const app = new Hono();

  app.onError((err, c) => {
    logger.error("http.error", { path: c.req.path, error: err });
    return errorResponse(c, 500, "internal", "Internal server error; see the server log");
  });
  app.notFound((c) =>
    errorResponse(
      c,
      404,
      "not_found",
      `No route for ${c.req.method} ${c.req.path}; see docs/protocol.md for the API`,
    )
  );

  mountPublishRoute(app, {
    hub,
    authenticator,
    publishLimiter,
    maxBodyBytes,
    maxBatchItems,
    refuse,
    remote,
  });

  // Browser apps on other origins fetch state after a gap; allow them (only the allowed ones, if set).
  const origins = authenticator.allowedOrigins;
  app.use(
    "/topics/*",
    cors({
      origin: origins.length > 0 ? origins : "*",
      allowHeaders: ["Authorization"],
      allowMethods: ["GET"],
    }),
  );

  app.get("/topics/:topic/state", async (c) => {
    const topic = c.req.param("topic");
    try {
      validateTopic(topic);
    } catch (err) {
      return errorResponse(c, 400, "invalid_topic", (err as Error).message);
    }
    try {
      const reader = await authenticator.reader(
        c.req.header("authorization"),
        c.req.query("token"),
        remote(c).host,
      );
      if (!reader.canSubscribe(topic)) {
        throw new AuthError(`Your token does not allow reading "${topic}"`, { forbidden: true });
      }
    } catch (err) {
      if (err instanceof AuthError) return refuse(c, err);
      throw err;
    }
    // The cached snapshot frame's state, after this response's own head: not copied.
    const { seq, bytes } = await hub.snapshotFrame(topic);
    const head = utf8.encode(
      `${JSON.stringify({ topic, epoch: bus.epoch, seq }).slice(0, -1)},"state":`,
    );
    const parts = bytes
      ? [head, bytes.frame.subarray(bytes.stateStart)]
      : [head, utf8.encode("{}}")];
    return stateReads.respond(parts) ??
      overloaded(c, `The state of "${topic}" cannot be sent now (too many state reads in flight)`);
  });

  if (options.web) mountWebRoutes(app, options.web);

  mountStatusRoutes(app, {
    hub,
    bus,
    upgrader,
    memory,
    metrics,
    admin: options.admin ?? adminCheck,
  });
  mountSocketRoute(app, {
    hub,
    upgrader,
    authenticator,
    logger,
    memory,
    maxConnections,
    refuse,
    overloaded,
    remote,
  });

  return app;
}
