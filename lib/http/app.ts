/**
 * The HTTP API as a Hono app: publish, state, health, stats, metrics, and the
 * WebSocket endpoint. Runtime-neutral: the WebSocket engine comes in as an
 * {@linkcode Upgrader}, so tests can drive every route with `app.request()`.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Bus } from "../bus/bus.ts";
import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { ErrorCode } from "../protocol/codes.ts";
import { negotiateSubprotocol } from "../protocol/codec.ts";
import { parsePublishInput, type PublishInput } from "../protocol/parse.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import { isSystemTopic, validateTopic } from "../protocol/topic_name.ts";
import type { Upgrader } from "../transport/socket.ts";
import type { ClientSession } from "../hub/client_session.ts";

/** What the app needs. */
export interface AppOptions {
  hub: Hub;
  bus: Bus;
  metrics: Metrics;
  upgrader: Upgrader;
  logger: Logger;
  /** Largest `POST /publish` body in bytes. @default {1048576} */
  maxBodyBytes?: number;
  /** Most items in one `POST /publish` array. @default {1000} */
  maxBatchItems?: number;
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
};

function remoteOf(c: Context): string {
  const addr = (c.env as { remoteAddr?: { hostname?: string; port?: number } } | undefined)
    ?.remoteAddr;
  return addr?.hostname ? `${addr.hostname}:${addr.port}` : "unknown";
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
  const { hub, bus, metrics, upgrader, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
  const maxBatchItems = options.maxBatchItems ?? 1000;
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
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        errorResponse(
          c,
          413,
          "too_large",
          `Body exceeds ${maxBodyBytes} bytes (--max-body-bytes); split it into several publishes`,
        ),
    }),
    async (c) => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
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
            if (isSystemTopic(input.topic)) {
              throw new ProtocolError(
                "forbidden",
                `Topic "${input.topic}" is a system topic; only the server publishes to it`,
              );
            }
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
          return errorResponse(c, STATUS_OF[err.code] ?? 400, err.code, err.message);
        }
        throw err;
      }
      const envelopes = await hub.publish(inputs);
      return c.json({ accepted: envelopes.length, seq: envelopes[envelopes.length - 1].seq }, 202);
    },
  );

  app.get("/topics/:topic/state", async (c) => {
    const topic = c.req.param("topic");
    try {
      validateTopic(topic);
    } catch (err) {
      return errorResponse(c, 400, "invalid_topic", (err as Error).message);
    }
    const snap = await hub.snapshot(topic);
    return c.json({ topic, epoch: bus.epoch, seq: snap.seq, state: snap.state ?? {} });
  });

  app.get("/healthz", (c) => {
    const busHealth = bus.health();
    return c.json({
      status: busHealth.ok ? "ok" : "degraded",
      mode: hub.mode,
      engine: upgrader.name,
      bus: { name: bus.name, ...busHealth },
      epoch: bus.epoch,
      clients: hub.clientCount,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }, busHealth.ok ? 200 : 503);
  });

  app.get("/stats", (c) => c.json({ server: hub.snapshotStats(), clients: hub.clientStats() }));

  app.get("/metrics", async (c) => {
    c.header("Content-Type", metrics.contentType);
    return c.body(await metrics.render());
  });

  app.get("/ws", (c) => {
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
    const remote = remoteOf(c);
    const { codec, protocol } = negotiateSubprotocol(c.req.header("sec-websocket-protocol"));
    let session: ClientSession | undefined;
    return upgrader.upgrade(c.req.raw, { protocol, env: c.env }, {
      onOpen(socket) {
        session = hub.connect(socket, { remote, topics, codec });
      },
      onMessage(data) {
        if (session) hub.receive(session, data);
      },
      onClose(code, reason) {
        if (session) hub.disconnected(session, code, reason);
      },
    });
  });

  return app;
}
