/**
 * Attacks on the bus over real sockets, on the memory bus and on a real Redis
 * (ignored, with the reason, where redis-server is not installed): a merge
 * patch nested 20,000 levels deep, one batch of 1,000 new keys past
 * `--max-keys-per-topic`, and a Redis that hangs (SIGSTOP).
 */
import assert from "node:assert/strict";
import type { Settings } from "../../lib/config/settings.ts";
import { type FloodgateServer, startServer } from "../../lib/server.ts";
import { hasRedis, redisMissing, RedisServer } from "../_support/redis_server.ts";
import { publish, testSettings, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

type Mode = "memory" | "redis";
const modes: Mode[] = ["memory", "redis"];
const suffix = (mode: Mode) => mode === "redis" ? ` (Redis bus)${redisMissing}` : " (memory bus)";

/** Runs `fn` against a server on the memory bus or on a fresh redis-server. */
async function withBus(
  mode: Mode,
  overrides: Partial<Settings>,
  fn: (server: FloodgateServer, redis: RedisServer | undefined) => Promise<void>,
): Promise<void> {
  const redis = mode === "redis" ? await RedisServer.start() : undefined;
  const server = await startServer(
    testSettings({ ...overrides, ...(redis ? { redisUrl: redis.url, redisPrefix: "fgatk" } : {}) }),
  );
  try {
    await fn(server, redis);
  } finally {
    await server.shutdown();
    await redis?.stop();
  }
}

const errorOf = (body: Record<string, unknown>) => body.error as { code: string; message: string };

for (const mode of modes) {
  Deno.test({
    name:
      `POST /publish of a patch nested 20,000 levels deep gets 400 invalid_frame and takes no seq${
        suffix(mode)
      }`,
    ignore: mode === "redis" && !hasRedis,
    async fn() {
      await withBus(mode, {}, async (server) => {
        const live = await TestClient.connect(wsUrl(server, "?topics=s"));
        await live.waitFor(() => live.ofType("subscribed").length === 1, 5000, "subscribed");
        assert.equal((await publish(server, { topic: "s", key: "k", data: { a: 1 } })).status, 202);
        const deep = '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000);
        const refused = await publish(server, `{"topic":"s","key":"k","patch":${deep}}`);
        assert.equal(refused.status, 400);
        assert.equal(errorOf(refused.body).code, "invalid_frame");
        assert.match(errorOf(refused.body).message, /nested more than 64 levels deep/);
        // The same over the WebSocket: an error frame, the connection stays.
        const shallower = '{"a":'.repeat(2000) + "1" + "}".repeat(2000);
        live.send(`{"type":"publish","id":7,"topic":"s","key":"k","patch":${shallower}}`);
        await live.waitFor(() => live.ofType("error").length === 1, 5000, "error frame");
        assert.equal(live.ofType("error")[0].code, "invalid_frame");
        assert.equal(live.ofType("error")[0].id, 7);
        const ok = await publish(server, { topic: "s", key: "k", patch: { b: 2 } });
        assert.equal(ok.status, 202);
        assert.equal(ok.body.seq, 2, "the refused publishes took no seq");
        await live.waitFor(() => live.messages().length === 2, 5000, "2 messages");
        assert.deepEqual(live.messages().map((m) => m.seq), [1, 2]);
        assert.deepEqual(live.gaps(), []);
        // Resuming after seq 1 replays seq 2 exactly.
        const epoch = live.ofType("welcome")[0].epoch;
        const again = await TestClient.connect(wsUrl(server));
        again.send({ type: "subscribe", topics: ["s"], since: { s: 1 }, epoch });
        await again.waitFor(() => again.messages().length === 1, 5000, "replayed seq 2");
        assert.deepEqual(again.messages().map((m) => m.seq), [2]);
        assert.deepEqual(again.gaps(), []);
        const state = await (await fetch(`${server.url}/topics/s/state`)).json();
        assert.deepEqual([state.seq, state.state], [2, { k: { a: 1, b: 2 } }]);
        await live.close();
        await again.close();
      });
    },
  });

  Deno.test({
    name: `--max-keys-per-topic 10 refuses one batch of 1,000 new keys whole${suffix(mode)}`,
    ignore: mode === "redis" && !hasRedis,
    async fn() {
      await withBus(mode, { maxKeysPerTopic: 10 }, async (server) => {
        const live = await TestClient.connect(wsUrl(server, "?topics=s"));
        await live.waitFor(() => live.ofType("subscribed").length === 1, 5000, "subscribed");
        const batch = (n: number, from = 0) =>
          Array.from({ length: n }, (_, i) => ({ topic: "s", key: `k${from + i}`, data: i }));
        const refused = await publish(server, batch(1000));
        assert.equal(refused.status, 503);
        assert.equal(errorOf(refused.body).code, "limit_reached");
        assert.match(errorOf(refused.body).message, /--max-keys-per-topic/);
        const state = await (await fetch(`${server.url}/topics/s/state`)).json();
        assert.deepEqual([state.seq, state.state], [0, {}], "nothing of the batch was published");
        assert.equal((await publish(server, batch(10))).status, 202);
        assert.equal((await publish(server, batch(1, 10))).status, 503, "the 11th key");
        assert.equal((await publish(server, batch(10))).status, 202, "rewriting held keys");
        await live.waitFor(() => live.messages().length === 20, 5000, "20 messages");
        assert.deepEqual(
          live.messages().map((m) => m.seq),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        await live.close();
      });
    },
  });
}

/** Polls `/healthz` until it answers `status`. */
async function waitForHealth(server: FloodgateServer, status: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${server.url}/healthz`);
    await res.body?.cancel();
    if (res.status === status) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`/healthz never answered ${status}`);
}

/** The pid of the redis-server process, to stop and continue it. */
async function pidOf(redis: RedisServer): Promise<number> {
  const m = /process_id:(\d+)/.exec(await redis.cli("INFO", "server"));
  assert.ok(m, "INFO server names the process id");
  return Number(m[1]);
}

Deno.test({
  name:
    `A hung Redis (SIGSTOP): publishes get 503 unavailable within the command timeout and /healthz turns degraded until it continues${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withBus("redis", {}, async (server, redis) => {
      assert.ok(redis);
      const pid = await pidOf(redis);
      let stopped = false;
      const live = await TestClient.connect(wsUrl(server, "?topics=s"));
      try {
        await live.waitFor(() => live.ofType("subscribed").length === 1, 5000, "subscribed");
        assert.equal((await publish(server, { topic: "s", data: "before" })).status, 202);
        Deno.kill(pid, "SIGSTOP");
        stopped = true;
        const start = performance.now();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => publish(server, { topic: "s", data: `hung ${i}` })),
        );
        const ms = performance.now() - start;
        // The default --redis command timeout is 2 s (RedisBus commandTimeoutMs).
        assert.ok(ms < 4000, `answered after ${Math.round(ms)} ms`);
        for (const r of results) {
          assert.equal(r.status, 503);
          assert.equal(errorOf(r.body).code, "unavailable");
          assert.match(errorOf(r.body).message, /Redis did not answer within 2000 ms/);
        }
        const health = await fetch(`${server.url}/healthz`);
        assert.equal(health.status, 503);
        const body = await health.json();
        assert.equal(body.status, "degraded");
        assert.match(body.bus.detail, /^Redis did not answer within 2000 ms/);

        Deno.kill(pid, "SIGCONT");
        stopped = false;
        await waitForHealth(server, 200);
        const after = await publish(server, { topic: "s", data: "after" });
        assert.equal(after.status, 202);
        assert.equal(after.body.seq, 2, "the publishes answered 503 were not applied later");
        await live.waitFor(() => live.messages().length === 2, 5000, "2 messages");
        assert.deepEqual(live.messages().map((m) => m.data), ["before", "after"]);
        assert.deepEqual(live.gaps(), []);
      } finally {
        if (stopped) Deno.kill(pid, "SIGCONT");
        await live.close();
      }
    });
  },
});
