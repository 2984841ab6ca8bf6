/**
 * `GET /ws`: the WebSocket endpoint. Checks the topics, the memory budget,
 * the connection limit (upgrades in progress included) and the credentials
 * before the handshake, then hands the connection to the hub.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { Hub } from "../hub/hub.ts";
import type { ClientSession } from "../hub/client_session.ts";
import type { Logger } from "../log/logger.ts";
import type { MemoryLedger } from "../memory/memory_ledger.ts";
import { type Authenticator, AuthError } from "../auth/authenticator.ts";
import type { Permissions } from "../auth/permissions.ts";
import { CloseCode } from "../protocol/codes.ts";
import { clientLevelOf, codecOf, selectSubprotocol } from "../protocol/subprotocol.ts";
import { validateTopic } from "../protocol/topic_name.ts";
import type { Upgrader } from "../transport/socket.ts";
import { errorResponse, type Remote } from "./responses.ts";

/** What the WebSocket route needs. */
export interface SocketRouteOptions {
  hub: Hub;
  upgrader: Upgrader;
  authenticator: Authenticator;
  logger: Logger;
  memory: MemoryLedger | undefined;
  /** Most connections, counted from the upgrade on. */
  maxConnections: number;
  /** Answers a refused credential. */
  refuse(c: Context, err: AuthError): Response;
  /** Answers while over the memory budget. */
  overloaded(c: Context, what: string): Response;
  /** Who sent the request. */
  remote(c: Context): Remote;
}

/** Mounts `GET /ws` on `app`. */
export function mountSocketRoute(app: Hono, options: SocketRouteOptions): void {
  const { hub, upgrader, authenticator, logger, memory, maxConnections } = options;
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
    if (memory?.pressure === "overloaded") return options.overloaded(c, "No new connections");
    if (hub.clientCount + (upgrader.pending ?? 0) >= maxConnections) {
      hub.counters.reject("connection_limit");
      return errorResponse(
        c,
        503,
        "limit_reached",
        `The server holds its maximum of ${maxConnections} connections (--max-connections); retry later`,
      );
    }
    const remote = options.remote(c);
    const protocol = selectSubprotocol(c.req.header("sec-websocket-protocol"));
    const codec = codecOf(protocol);
    await hub.loadCodec(codec);
    let permissions: Permissions;
    try {
      permissions = await authenticator.socket(c.req.raw, remote.host);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      if (err.status === 403) return options.refuse(c, err);
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
          address: remote.host,
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
}
