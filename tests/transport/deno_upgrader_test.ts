import assert from "node:assert/strict";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import { DenoUpgrader } from "../../lib/transport/deno_upgrader.ts";
import type { ServerSocket, SocketHandlers } from "../../lib/transport/socket.ts";
import { readUntilClose } from "../_support/raw_read.ts";
import { waitUntil } from "../_support/wait.ts";
import { exchange, upgradeRequest, wholeResponse } from "./raw_http.ts";

const gc = (globalThis as { gc?: () => void }).gc;

/** A server whose every connection gets handlers from `make`. */
function serve(make: () => SocketHandlers, upgrader = new DenoUpgrader()) {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => upgrader.upgrade(req, {}, make()),
  );
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
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => (ws.onclose = (e) => resolve(e.code)));
}

Deno.test("DenoUpgrader delivers open, messages and close to the handlers", async () => {
  const events: string[] = [];
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  const server = serve(() => ({
    onOpen: (socket) => socket.send("hello"),
    onMessage: (data) => events.push(`message ${data}`),
    onClose: (code) => {
      events.push(`close ${code}`);
      closed();
    },
  }));
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
  const hello = await new Promise<string>((r) => (ws.onmessage = (e) => r(e.data)));
  ws.send("hi");
  ws.close(1000);
  await done;
  assert.equal(hello, "hello");
  assert.deepEqual(events, ["message hi", "close 1000"]);
  await server.shutdown();
});

Deno.test("DenoUpgrader's close frame reaches a peer that is still sending (lingering close)", async () => {
  const server = serve(() => {
    let socket: ServerSocket;
    let n = 0;
    return {
      onOpen: (s) => (socket = s),
      onMessage: () => {
        if (++n === 41) socket.close(1008, "too many frames");
      },
      onClose: () => {},
    };
  });
  const raw = await RawWebSocket.connect(`ws://127.0.0.1:${server.addr.port}/`);
  for (let i = 0; i < 200; i++) await raw.sendText("flood");
  const read = await readUntilClose(raw, 3000);
  assert.deepEqual(read.close, { code: 1008, reason: "too many frames" });
  raw.abort();
  await server.shutdown();
});

Deno.test({
  name:
    "DenoUpgrader lets go of the handlers of a closed connection (run with --v8-flags=--expose-gc)",
  ignore: gc === undefined,
  sanitizeResources: false,
  async fn() {
    const refs: WeakRef<SocketHandlers>[] = [];
    let closes = 0;
    const server = serve(() => {
      const handlers: SocketHandlers = {
        onOpen() {},
        onMessage() {},
        onClose: () => void closes++,
      };
      refs.push(new WeakRef(handlers));
      return handlers;
    });
    for (let i = 0; i < 50; i++) {
      const raw = await RawWebSocket.connect(`ws://127.0.0.1:${server.addr.port}/`);
      await raw.sendText("x");
      raw.abort(); // a peer that vanishes
    }
    for (let i = 0; i < 100 && closes < 50; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(closes, 50);
    gc!();
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.ok(alive <= 1, `${alive} of 50 closed connections still hold their handlers`);
    await server.shutdown();
  },
});

Deno.test("DenoUpgrader refuses an upgrade without Sec-WebSocket-Key or Connection: Upgrade with 400", async () => {
  const server = serve(echo);
  for (const drop of ["Sec-WebSocket-Key", "Connection"]) {
    const reply = await exchange(
      server.addr.port,
      upgradeRequest("/", { drop: [drop] }),
      3000,
      wholeResponse,
    );
    assert.equal(reply.status, 400, `without ${drop}`);
    assert.equal(JSON.parse(reply.body).error.code, "invalid_frame");
  }
  await server.shutdown();
});

Deno.test("DenoUpgrader refuses Sec-WebSocket-Version 8 with 426 naming version 13", async () => {
  const server = serve(echo);
  const reply = await exchange(
    server.addr.port,
    upgradeRequest("/", { extra: { "Sec-WebSocket-Version": "8" } }),
    3000,
    wholeResponse,
  );
  assert.equal(reply.status, 426);
  assert.equal(reply.headers.get("sec-websocket-version"), "13");
  await server.shutdown();
});

Deno.test("DenoUpgrader closes with 1011 only the connection whose handler threw, and reports it", async () => {
  const errors: string[] = [];
  const upgrader = new DenoUpgrader({
    onError: (error, where) => errors.push(`${where}: ${error}`),
  });
  const server = serve(echo, upgrader);
  const [a, b] = await Promise.all([open(server.addr.port), open(server.addr.port)]);
  const aClosed = closed(a);
  a.send("boom");
  assert.equal(await aClosed, 1011);
  const echoed = new Promise((r) => (b.onmessage = (e) => r(e.data)));
  b.send("still here");
  assert.equal(await echoed, "still here");
  assert.deepEqual(errors, ["onMessage: Error: handler bug"]);
  const bClosed = closed(b);
  b.close();
  await bClosed;
  await server.shutdown();
});

Deno.test("DenoUpgrader.pending counts tracked upgrades from their arrival until they open or are refused", async () => {
  const upgrader = new DenoUpgrader();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    upgrader.track(async (req) => {
      await gate; // the app is still deciding (e.g. verifying a token)
      return ++calls <= 3 ? upgrader.upgrade(req, {}, echo()) : new Response(null, { status: 503 });
    }),
  );
  const sockets = Array.from({ length: 5 }, () => open(server.addr.port));
  await waitUntil(() => upgrader.pending === 5, 3000, "5 upgrades pending");
  release();
  const results = await Promise.allSettled(sockets);
  const opened = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  assert.equal(opened.length, 3);
  await waitUntil(() => upgrader.pending === 0, 3000, "no upgrade pending");
  await Promise.all(opened.map((ws) => {
    const done = closed(ws);
    ws.close();
    return done;
  }));
  await server.shutdown();
});

Deno.test("DenoUpgrader.pending lets go of an upgrade whose client left before the open", async () => {
  // A client gone before its request is handled: the runtime answers 101 but reports
  // neither an open nor a close. The handshake timeout lets go of it.
  const closes: number[] = [];
  const upgrader = new DenoUpgrader({ handshakeTimeoutMs: 300 });
  let upgraded = false;
  // Deno.serve's shutdown() waits for that connection forever: abort instead.
  const abort = new AbortController();
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen() {},
    signal: abort.signal,
  }, async (req) => {
    await new Promise((r) => setTimeout(r, 0)); // the client is gone by now
    const response = upgrader.upgrade(req, {}, {
      onOpen() {},
      onMessage() {},
      onClose: (code) => void closes.push(code),
    });
    upgraded = upgrader.pending === 1;
    return response;
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await conn.write(new TextEncoder().encode(upgradeRequest("/")));
  conn.close();
  await waitUntil(() => upgraded, 3000, "the upgrade answered");
  await waitUntil(() => upgrader.pending === 0, 3000, "the upgrade let go");
  assert.deepEqual(closes, [1006]);
  abort.abort();
  await server.finished;
});
