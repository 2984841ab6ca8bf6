import assert from "node:assert/strict";
import { Hono } from "hono";
import { type NodeListenOptions, serveDeno, serveNode } from "../../lib/transport/listeners.ts";
import type { ServerSocket } from "../../lib/transport/socket.ts";
import { WsUpgrader } from "../../lib/transport/ws_upgrader.ts";
import { exchange } from "./raw_http.ts";

/** An echo app and the `ws` engine on `serveNode`, for `fn`. */
async function withNode(
  options: Partial<NodeListenOptions>,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const upgrader = new WsUpgrader({ compression: "off" });
  const app = new Hono();
  app.get("/", (c) => c.text("ok"));
  app.get("/ws", (c) => {
    let socket: ServerSocket | undefined;
    return upgrader.upgrade(c.req.raw, { env: c.env }, {
      onOpen: (s) => (socket = s),
      onMessage: (data) => socket?.send(data),
      onClose() {},
    });
  });
  const listener = await serveNode(app, upgrader, {
    port: 0,
    hostname: "127.0.0.1",
    ...options,
  });
  try {
    await fn(listener.port);
  } finally {
    await listener.shutdown();
  }
}

async function echoes(port: number, path = "/ws"): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("WebSocket failed to open"));
    });
    const reply = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(e.data)));
    ws.send("echo");
    return await reply;
  } finally {
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
  }
}

/** Retries `GET /` until it answers 200 or `timeoutMs` passes. */
async function answersHttp(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      const text = await res.text();
      if (res.ok && text === "ok") return true;
    } catch {
      // not yet
    }
  }
  return false;
}

Deno.test("serveNode answers 408 and closes an idle connection and a partial request after handshakeTimeoutMs", async () => {
  await withNode({ handshakeTimeoutMs: 300 }, async (port) => {
    const [idle, partial, trickled] = await Promise.all([
      exchange(port, "", 5000),
      exchange(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", 5000),
      exchange(port, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websock", 5000),
    ]);
    for (const [name, reply] of Object.entries({ idle, partial, trickled })) {
      assert.equal(reply.closed, true, `${name} closed`);
      assert.equal(reply.status, 408, name);
      assert.ok(
        reply.closedAfterMs! >= 250 && reply.closedAfterMs! < 3000,
        `${name} closed in time`,
      );
    }
    assert.equal(await answersHttp(port, 3000), true);
  });
});

Deno.test("serveNode keeps an open WebSocket past handshakeTimeoutMs", async () => {
  await withNode({ handshakeTimeoutMs: 200 }, async (port) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve) => (ws.onopen = resolve));
    let closedEarly = false;
    ws.onclose = () => (closedEarly = true);
    // Two idle connections closed one after the other: well past the timeout and
    // past node:http's own check, which runs every 100 ms here.
    assert.equal((await exchange(port, "", 5000)).closed, true);
    assert.equal((await exchange(port, "", 5000)).closed, true);
    assert.equal(closedEarly, false);
    const reply = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(e.data)));
    ws.send("still open");
    assert.equal(await reply, "still open");
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
  });
});

Deno.test("serveNode closes connections past maxSockets at once and accepts again below it", async () => {
  await withNode({ maxSockets: 3 }, async (port) => {
    const held = await Promise.all(
      [1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    // Each is accepted once the server has seen it: a request on it answers.
    for (const conn of held) {
      await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      assert.ok((await conn.read(new Uint8Array(1024)))! > 0);
    }
    const extra = await exchange(port, "", 5000);
    assert.equal(extra.closed, true);
    assert.equal(extra.text, "");
    for (const conn of held) conn.close();
    assert.equal(await answersHttp(port, 5000), true);
  });
});

/** A listener_child.ts process under `prlimit --nofile=<nofile>`. */
async function withChild(
  nofile: number,
  args: string[],
  fn: (port: number, stderr: () => string) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command("prlimit", {
    args: [
      `--nofile=${nofile}`,
      Deno.execPath(),
      "run",
      "-A",
      new URL("./listener_child.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
  let errors = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) errors += chunk;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let line = "";
    while (!line.includes("\n")) {
      const read = await reader.read();
      if (read.done) throw new Error(`the child exited before listening: ${errors}`);
      line += read.value;
    }
    await fn(JSON.parse(line).port, () => errors);
    // Whatever happened, the process is still there.
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 100)),
    ]);
    assert.equal(exited, false, `the child exited: ${errors}`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel();
    await stderrDone;
  }
}

/** Opens `count` connections at once (each given up after 3 s); returns those that connected. */
async function flood(port: number, count: number): Promise<Deno.Conn[]> {
  const attempts = Array.from({ length: count }, () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      Deno.connect({ hostname: "127.0.0.1", port }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("connect timed out")), 3000);
      }),
    ]).finally(() => clearTimeout(timer));
  });
  const results = await Promise.allSettled(attempts);
  return results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
}

function closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // reset by the server
    }
  }
}

Deno.test("serveNode survives more connections than its descriptor limit, then answers HTTP and WebSocket", async () => {
  await withChild(256, ["ws"], async (port) => {
    const before = await echoes(port);
    const conns = await flood(port, 1500);
    assert.ok(conns.length > 256, `${conns.length} connected`);
    closeAll(conns);
    assert.equal(await answersHttp(port, 10_000), true);
    assert.equal(await echoes(port), before);
  });
});

Deno.test("serveNode listens again when its listener stalled out of descriptors (no cap)", async () => {
  await withChild(256, ["ws", "0", "1000"], async (port, stderr) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve) => (ws.onopen = resolve));
    const conns = await flood(port, 1500);
    closeAll(conns);
    assert.equal(await answersHttp(port, 15_000), true);
    assert.match(stderr(), /stopped accepting/);
    // The connection open before the stall goes on.
    const reply = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(e.data)));
    ws.send("kept");
    assert.equal(await reply, "kept");
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
    assert.equal(await echoes(port), "echo");
  });
});

Deno.test("serveDeno listens again after Deno.serve died out of descriptors, open WebSockets unharmed", async () => {
  await withChild(256, ["deno"], async (port, stderr) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve) => (ws.onopen = resolve));
    const conns = await flood(port, 1500);
    closeAll(conns);
    assert.equal(await answersHttp(port, 10_000), true);
    assert.match(stderr(), /Too many open files/);
    const reply = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(e.data)));
    ws.send("kept");
    assert.equal(await reply, "kept");
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
    assert.equal(await echoes(port), "echo");
  });
});

Deno.test("serveDeno's finished resolves once shutdown completes", async () => {
  const app = new Hono();
  app.get("/", (c) => c.text("ok"));
  const listener = serveDeno(app, { port: 0, hostname: "127.0.0.1" });
  assert.equal(await answersHttp(listener.port, 3000), true);
  await listener.shutdown();
  await listener.finished;
});
