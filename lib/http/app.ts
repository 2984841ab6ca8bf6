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
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Bus } from "../bus/bus.ts";
import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { ErrorCode } from "../protocol/codes.ts";
import { parsePublishInput, type PublishInput } from "../protocol/parse.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import { validateTopic } from "../protocol/topic_name.ts";
import type { Upgrader } from "../transport/socket.ts";
import type { ClientSession } from "../hub/client_session.ts";
import { type Authenticator, AuthError } from "../auth/authenticator.ts";
import type { Permissions } from "../auth/permissions.ts";
import { publishRefusal } from "../auth/publish_check.ts";
import type { KeyedRateLimiter } from "../limits/keyed_rate_limiter.ts";
import { CloseCode } from "../protocol/codes.ts";
import { clientLevelOf, codecOf, selectSubprotocol } from "../protocol/subprotocol.ts";
import type { WebAssets } from "../dashboard/assets.ts";
import type { MemoryLedger } from "../memory/memory_ledger.ts";
import { readBodyText } from "./read_body.ts";
import { StateReads } from "./state_reads.ts";
import { mountWebRoutes } from "./web_routes.ts";

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
}

/** Sends the JSON error body every route uses: `{"error": {"code", "message"}}`. */
export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
): Response {
  return c.json({ error: { code, message } }, status);
}

const STATUS_OF: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  forbidden: 403,
  unauthorized: 401,
  rate_limited: 429,
  too_large: 413,
  not_found: 404,
  limit_reached: 503,
  unavailable: 503,
  overloaded: 503,
};

function remoteOf(c: Context): { host: string; text: string } {
  const addr = (c.env as { remoteAddr?: { hostname?: string; port?: number } } | undefined)
    ?.remoteAddr;
  return addr?.hostname
    ? { host: addr.hostname, text: `${addr.hostname}:${addr.port}` }
    : { host: "unknown", text: "unknown" };
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
  const startedAt = Date.now();
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

  app.post(
    "/publish",
    async (c) => {
      let permissions: Permissions;
      try {
        permissions = await authenticator.publisher(
          c.req.header("authorization"),
          remoteOf(c).host,
        );
      } catch (err) {
        if (err instanceof AuthError) return refuse(c, err);
        throw err;
      }
      const text = await readBodyText(c.req.raw, maxBodyBytes, c.env);
      if (text === undefined) {
        return errorResponse(
          c,
          413,
          "too_large",
          `Body exceeds ${maxBodyBytes} bytes (--max-body-bytes); split it into several publishes`,
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return errorResponse(
          c,
          400,
          "bad_json",
          'Body is not valid JSON; send {"topic": "...", "data": ...} or an array of those',
        );
      }
      const items = Array.isArray(body) ? body : [body];
      if (items.length === 0) {
        return errorResponse(c, 400, "invalid_frame", "Empty array: nothing to publish");
      }
      if (items.length > maxBatchItems) {
        return errorResponse(
          c,
          413,
          "too_large",
          `${items.length} items in one publish; the limit is ${maxBatchItems}`,
        );
      }
      let inputs: PublishInput[];
      try {
        inputs = items.map((item, i) => {
          try {
            const input = parsePublishInput(item);
            const refusal = publishRefusal(permissions, input.topic);
            if (refusal) throw refusal;
            return input;
          } catch (err) {
            if (err instanceof ProtocolError && Array.isArray(body)) {
              throw new ProtocolError(err.code, `Item ${i}: ${err.message}`);
            }
            throw err;
          }
        });
      } catch (err) {
        if (err instanceof ProtocolError) {
          if (err.code === "forbidden") hub.counters.reject("forbidden");
          return errorResponse(c, STATUS_OF[err.code] ?? 400, err.code, err.message);
        }
        throw err;
      }
      const waitMs = publishLimiter.take(permissions.identity, inputs.length);
      if (waitMs > 0) {
        hub.counters.reject("rate_limited");
        c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
        return errorResponse(
          c,
          429,
          "rate_limited",
          `Publish rate limit reached for ${permissions.identity} (--publish-rate); retry in ${waitMs} ms`,
        );
      }
      let envelopes;
      try {
        envelopes = await hub.publish(inputs);
      } catch (err) {
        if (err instanceof ProtocolError) {
          hub.counters.reject(err.code);
          if (err.code === "overloaded") c.header("Retry-After", "1");
          return errorResponse(c, STATUS_OF[err.code] ?? 400, err.code, err.message);
        }
        throw err;
      }
      return c.json({ accepted: envelopes.length, seq: envelopes[envelopes.length - 1].seq }, 202);
    },
  );

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
        remoteOf(c).host,
      );
      if (!reader.canSubscribe(topic)) {
        throw new AuthError(`Your token does not allow reading "${topic}"`, { forbidden: true });
      }
    } catch (err) {
      if (err instanceof AuthError) return refuse(c, err);
      throw err;
    }
    const snap = await hub.snapshot(topic);
    const body = JSON.stringify({
      topic,
      epoch: bus.epoch,
      seq: snap.seq,
      state: snap.state ?? {},
    });
    return stateReads.respond(body) ??
      overloaded(c, `The state of "${topic}" cannot be sent now (too many state reads in flight)`);
  });

  if (options.web) mountWebRoutes(app, options.web);

  app.get("/healthz", (c) => {
    const busHealth = bus.health();
    const ledger = memory?.update();
    const overloadedNow = ledger?.pressure === "overloaded";
    return c.json({
      status: !busHealth.ok ? "degraded" : overloadedNow ? "overloaded" : "ok",
      mode: hub.mode,
      engine: upgrader.name,
      bus: { name: bus.name, ...busHealth },
      epoch: bus.epoch,
      clients: hub.clientCount,
      memory: ledger && {
        pressure: ledger.pressure,
        budgetBytes: ledger.budgetBytes,
        heldBytes: ledger.totalBytes,
      },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }, busHealth.ok && !overloadedNow ? 200 : 503);
  });

  app.get("/stats", (c) =>
    c.json({
      server: hub.snapshotStats(),
      memory: memory && { ...memory.update(), process: Deno.memoryUsage() },
      clients: hub.clientStats(),
    }));

  let registry: Promise<Metrics> | undefined;
  app.get("/metrics", async (c) => {
    const m = await (registry ??= metrics());
    c.header("Content-Type", m.contentType);
    return c.body(await m.render());
  });

  app.get("/ws", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(
        c,
        426,
        "invalid_frame",
        "GET /ws needs a WebSocket upgrade; connect with a WebSocket client",
      );
    }
    const topicsParam = c.req.query("topics");
    const topics = topicsParam ? topicsParam.split(",").filter((t) => t.length > 0) : [];
    try {
      for (const topic of topics) validateTopic(topic);
    } catch (err) {
      return errorResponse(c, 400, "invalid_topic", (err as Error).message);
    }
    if (memory?.pressure === "overloaded") return overloaded(c, "No new connections");
    if (hub.clientCount >= maxConnections) {
      hub.counters.reject("connection_limit");
      return errorResponse(
        c,
        503,
        "limit_reached",
        `The server holds its maximum of ${maxConnections} connections (--max-connections); retry later`,
      );
    }
    const remote = remoteOf(c);
    const protocol = selectSubprotocol(c.req.header("sec-websocket-protocol"));
    const codec = codecOf(protocol);
    let permissions: Permissions;
    try {
      permissions = await authenticator.socket(c.req.raw, remote.host);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      if (err.status === 403) return refuse(c, err);
      // Browsers cannot read an HTTP 401 on an upgrade: accept, then close with a code and reason.
      hub.counters.reject(err.closeCode === CloseCode.TokenExpired ? "token_expired" : err.code);
      logger.info("client.refused", {
        remote: remote.text,
        code: err.closeCode,
        reason: err.message,
      });
      return upgrader.upgrade(c.req.raw, { protocol, env: c.env }, {
        onOpen: (socket) => socket.close(err.closeCode, err.message.slice(0, 120)),
        onMessage() {},
        onClose() {},
      });
    }
    let session: ClientSession | undefined;
    return upgrader.upgrade(c.req.raw, { protocol, env: c.env }, {
      onOpen(socket) {
        session = hub.connect(socket, {
          remote: remote.text,
          topics,
          permissions,
          codec,
          level: clientLevelOf(protocol),
        });
      },
      onMessage(data) {
        if (session) hub.receive(session, data);
      },
      onPong(data) {
        if (session) hub.pong(session, data);
      },
      onClose(code, reason) {
        if (session) hub.disconnected(session, code, reason);
      },
    });
  });

  return app;
}
