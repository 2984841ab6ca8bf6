import assert from "node:assert/strict";
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import { Authenticator } from "../../lib/auth/authenticator.ts";
import { createApp } from "../../lib/http/app.ts";
import { KeyedRateLimiter } from "../../lib/limits/keyed_rate_limiter.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { Logger } from "../../lib/log/logger.ts";
import { createMetrics } from "../../lib/metrics/metrics.ts";
import type { SocketHandlers, UpgradeOptions, Upgrader } from "../../lib/transport/socket.ts";

/** An upgrader that records the upgrade instead of performing one. */
class RecordingUpgrader implements Upgrader {
  readonly name = "recording";
  calls: { request: Request; options: UpgradeOptions; handlers: SocketHandlers }[] = [];
  upgrade(request: Request, options: UpgradeOptions, handlers: SocketHandlers): Response {
    this.calls.push({ request, options, handlers });
    return new Response(null, { status: 200 });
  }
}

async function withApp(
  fn: (
    app: ReturnType<typeof createApp>,
    parts: { hub: Hub; upgrader: RecordingUpgrader },
  ) => Promise<void>,
  maxBodyBytes = 1 << 20,
) {
  const bus = new MemoryBus({ epoch: "e1" });
  const logger = new Logger({ level: "silent" });
  const hub = new Hub({ bus, logger });
  const upgrader = new RecordingUpgrader();
  const app = createApp({
    hub,
    bus,
    logger,
    upgrader,
    metrics: () => Promise.resolve(createMetrics(hub)),
    maxBodyBytes,
    authenticator: new Authenticator(),
    publishLimiter: new KeyedRateLimiter(0),
  });
  try {
    await fn(app, { hub, upgrader });
  } finally {
    await hub.shutdown(0);
  }
}

const post = (body: string, headers: Record<string, string> = {}) => ({
  method: "POST",
  body,
  headers: { "content-type": "application/json", ...headers },
});

Deno.test("POST /publish answers 202 with the count and the last seq", async () => {
  await withApp(async (app) => {
    const one = await app.request("/publish", post(JSON.stringify({ topic: "t", data: 1 })));
    assert.equal(one.status, 202);
    assert.deepEqual(await one.json(), { accepted: 1, seq: 1 });
    const many = await app.request(
      "/publish",
      post(JSON.stringify([{ topic: "t", data: 2 }, { topic: "t", key: "k", data: 3 }])),
    );
    assert.deepEqual(await many.json(), { accepted: 2, seq: 3 });
  });
});

Deno.test("POST /publish rejects an over-limit body with 413 even without content-length", async () => {
  await withApp(async (app) => {
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(JSON.stringify({ topic: "t", data: "x".repeat(300) })));
        c.close();
      },
    });
    const res = await app.request("/publish", { method: "POST", body: stream });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "too_large");
  }, 100);
});

Deno.test("GET /topics/:topic/state returns the merged keyed state and its seq", async () => {
  await withApp(async (app) => {
    await app.request(
      "/publish",
      post(JSON.stringify([
        { topic: "s", key: "a", data: 1 },
        { topic: "s", key: "b", data: 2 },
        { topic: "s", key: "a", data: 3 },
        { topic: "s", data: "unkeyed" },
      ])),
    );
    const res = await app.request("/topics/s/state");
    assert.deepEqual(await res.json(), { topic: "s", epoch: "e1", seq: 4, state: { a: 3, b: 2 } });
    const bad = await app.request("/topics/a%20b/state");
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_topic");
  });
});

Deno.test("GET /healthz, /stats and /metrics describe the server", async () => {
  await withApp(async (app) => {
    await app.request("/publish", post(JSON.stringify({ topic: "t", data: 1 })));
    const health = await (await app.request("/healthz")).json();
    assert.equal(health.status, "ok");
    assert.equal(health.engine, "recording");
    assert.equal(health.bus.name, "memory");
    const stats = await (await app.request("/stats")).json();
    assert.equal(stats.server.counters.published, 1);
    assert.deepEqual(stats.clients, []);
    const metrics = await app.request("/metrics");
    assert.match(metrics.headers.get("content-type") ?? "", /text\/plain/);
    const text = await metrics.text();
    assert.match(text, /^floodgate_published_total 1$/m);
    assert.match(text, /^floodgate_clients 0$/m);
    assert.match(text, /^process_resident_memory_bytes [1-9]\d*/m, "RSS is measured, not 0");
  });
});

Deno.test("GET /ws without an upgrade answers 426; bad topics answer 400 before upgrading", async () => {
  await withApp(async (app, { upgrader }) => {
    const plain = await app.request("/ws");
    assert.equal(plain.status, 426);
    const bad = await app.request("/ws?topics=ok,no%20way", { headers: { upgrade: "websocket" } });
    assert.equal(bad.status, 400);
    assert.equal(upgrader.calls.length, 0);
    const good = await app.request("/ws?topics=a,b", { headers: { upgrade: "websocket" } });
    assert.equal(good.status, 200);
    assert.equal(upgrader.calls.length, 1);
  });
});

Deno.test("unknown routes answer 404 with a JSON error", async () => {
  await withApp(async (app) => {
    const res = await app.request("/nope");
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "not_found");
  });
});
