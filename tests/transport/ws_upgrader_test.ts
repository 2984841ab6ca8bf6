import assert from "node:assert/strict";
import { Hono } from "hono";
import type { EngineErrorSite } from "../../lib/transport/engine_errors.ts";
import { serveNode } from "../../lib/transport/listeners.ts";
import type { ServerSocket, SocketHandlers } from "../../lib/transport/socket.ts";
import { WsUpgrader } from "../../lib/transport/ws_upgrader.ts";
import { waitUntil } from "../_support/wait.ts";
import { exchange, upgradeRequest, wholeResponse } from "./raw_http.ts";

interface Served {
  port: number;
  upgrader: WsUpgrader;
  /** Calls of the `/ws` route. */
  routeCalls: number;
  errors: { where: EngineErrorSite; message: string }[];
}

/** A node:http server whose `/ws` route runs `route` (default: upgrade with `make()`'s handlers). */
async function withServer(
  fn: (served: Served) => Promise<void>,
  make: () => SocketHandlers = echo,
  route?: (upgrade: () => Response) => Response | Promise<Response>,
): Promise<void> {
  const errors: Served["errors"] = [];
  const upgrader = new WsUpgrader({
    compression: "off",
    onError: (error, where) => errors.push({ where, message: String(error) }),
  });
  const served: Served = { port: 0, upgrader, routeCalls: 0, errors };
  const app = new Hono();
  app.get("/ws", (c) => {
    served.routeCalls++;
    const upgrade = () => upgrader.upgrade(c.req.raw, { env: c.env }, make());
    return route ? route(upgrade) : upgrade();
  });
  const listener = await serveNode(app, upgrader, { port: 0, hostname: "127.0.0.1" });
  served.port = listener.port;
  try {
    await fn(served);
  } finally {
    await listener.shutdown();
  }
}

/** Handlers that echo, throwing on the message "boom". */
function echo(): SocketHandlers {
  let socket: ServerSocket | undefined;
  return {
    onOpen: (s) => (socket = s),
    onMessage(data) {
      if (data === "boom") throw new Error("handler bug");
      socket?.send(data);
    },
    onClose() {},
  };
}

function open(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => (ws.onmessage = (e) => resolve(e.data)));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => (ws.onclose = (e) => resolve(e.code)));
}

Deno.test("WsUpgrader refuses an upgrade without Sec-WebSocket-Key with 400 before the app runs", async () => {
  await withServer(async ({ port, errors, ...served }) => {
    const reply = await exchange(
      port,
      upgradeRequest("/ws", { drop: ["Sec-WebSocket-Key"] }),
      3000,
      wholeResponse,
    );
    assert.equal(reply.status, 400);
    assert.match(JSON.parse(reply.body).error.message, /missing Sec-WebSocket-Key/);
    assert.equal(served.routeCalls, 0);
    assert.deepEqual(errors, []);
  });
});

Deno.test("WsUpgrader refuses an upgrade without Connection: Upgrade with 400", async () => {
  await withServer(async ({ port, upgrader }) => {
    // node:http does not take it for an upgrade: it reaches the app as a plain request.
    const reply = await exchange(
      port,
      upgradeRequest("/ws", { drop: ["Connection"] }),
      3000,
      wholeResponse,
    );
    assert.equal(reply.status, 400);
    assert.match(JSON.parse(reply.body).error.message, /Connection header must include "Upgrade"/);
    assert.equal(upgrader.pending, 0);
  });
});

Deno.test("WsUpgrader refuses Sec-WebSocket-Version 8 with 426 naming version 13", async () => {
  await withServer(async ({ port }) => {
    const reply = await exchange(
      port,
      upgradeRequest("/ws", { extra: { "Sec-WebSocket-Version": "8" } }),
      3000,
      wholeResponse,
    );
    assert.equal(reply.status, 426);
    assert.equal(reply.headers.get("sec-websocket-version"), "13");
    const ok = await exchange(port, upgradeRequest(), 3000, (t) => t.includes("\r\n\r\n"));
    assert.equal(ok.status, 101);
  });
});

Deno.test("WsUpgrader closes with 1011 only the connection whose onMessage threw, and reports it", async () => {
  await withServer(async ({ port, errors }) => {
    const [a, b] = await Promise.all([open(port), open(port)]);
    const aClosed = closed(a);
    a.send("boom");
    assert.equal(await aClosed, 1011);
    const echoed = nextMessage(b);
    b.send("still here");
    assert.equal(await echoed, "still here");
    assert.deepEqual(errors, [{ where: "onMessage", message: "Error: handler bug" }]);
    const bClosed = closed(b);
    b.close();
    await bClosed;
  });
});

Deno.test("WsUpgrader closes with 1011 a connection whose onOpen threw, and still calls its onClose", async () => {
  const closes: number[] = [];
  await withServer(
    async ({ port, errors }) => {
      const ws = await open(port);
      assert.equal(await closed(ws), 1011);
      await waitUntil(() => closes.length === 1, 3000, "onClose");
      assert.deepEqual(errors.map((e) => e.where), ["onOpen", "onClose"]);
    },
    () => ({
      onOpen() {
        throw new Error("open bug");
      },
      onMessage() {},
      onClose(code) {
        closes.push(code);
        throw new Error("close bug"); // only reported
      },
    }),
  );
});

Deno.test("WsUpgrader.pending counts upgrades from their arrival until they open or are refused", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  await withServer(
    async ({ port, upgrader }) => {
      const replies = Array.from(
        { length: 5 },
        () => exchange(port, upgradeRequest(), 5000, (t) => t.includes("\r\n\r\n")),
      );
      await waitUntil(() => upgrader.pending === 5, 3000, "5 upgrades pending");
      release();
      const statuses = (await Promise.all(replies)).map((r) => r.status).sort();
      assert.deepEqual(statuses, [101, 101, 101, 503, 503]);
      await waitUntil(() => upgrader.pending === 0, 3000, "no upgrade pending");
    },
    echo,
    async (upgrade) => {
      await gate; // the app is still deciding (e.g. verifying a token)
      return ++calls <= 3 ? upgrade() : new Response("full", { status: 503 });
    },
  );
});

Deno.test("WsUpgrader.pending keeps a limit under a burst of concurrent upgrades", async () => {
  const max = 10;
  let openNow = 0;
  let upgraderRef: WsUpgrader | undefined;
  await withServer(
    async ({ port, upgrader }) => {
      upgraderRef = upgrader;
      const results = await Promise.allSettled(Array.from({ length: 60 }, () => open(port)));
      const opened = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
      assert.equal(opened.length, max);
      assert.equal(openNow, max);
      await Promise.all(opened.map((ws) => {
        const done = closed(ws);
        ws.close();
        return done;
      }));
    },
    () => ({
      onOpen: () => void openNow++,
      onMessage() {},
      onClose: () => void openNow--,
    }),
    async (upgrade) => {
      // The check the app makes, before its first await: the others in flight count, not this one.
      const refuse = openNow + upgraderRef!.pending >= max;
      await new Promise((r) => setTimeout(r, 5)); // an asynchronous credential check
      return refuse ? new Response("full", { status: 503 }) : upgrade();
    },
  );
});
