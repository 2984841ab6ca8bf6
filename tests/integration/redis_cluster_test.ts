/**
 * Two Floodgate instances sharing one real Redis: identical seqs on both,
 * resume across instances, recovery of what a dropped pub/sub connection
 * missed, and a Redis crash with restart. Ignored (with the reason) where
 * redis-server is not installed.
 */
import assert from "node:assert/strict";
import type { Settings } from "../../lib/config/settings.ts";
import { defaultConfig } from "../../lib/load/load_config.ts";
import { runLoad } from "../../lib/load/load_run.ts";
import { type FloodgateServer, startServer } from "../../lib/server.ts";
import { hasRedis, redisMissing, RedisServer } from "../_support/redis_server.ts";
import { TcpProxy } from "../_support/tcp_proxy.ts";
import { publish, testSettings, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

async function withCluster(
  overrides: Partial<Settings>,
  fn: (redis: RedisServer, a: FloodgateServer, b: FloodgateServer) => Promise<void>,
): Promise<void> {
  const redis = await RedisServer.start();
  const settings = testSettings({ redisUrl: redis.url, redisPrefix: "fgtest", ...overrides });
  const a = await startServer(settings);
  const b = await startServer(settings);
  try {
    await fn(redis, a, b);
  } finally {
    await Promise.all([a.shutdown(), b.shutdown()]);
    await redis.stop();
  }
}

async function waitForHealth(server: FloodgateServer, status: "ok" | "degraded"): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${server.url}/healthz`);
    if ((await res.json()).status === status) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${server.url} never became ${status}`);
}

/** Seqs a client holds for `topic` as messages, and seqs covered by gaps. */
function coverage(c: TestClient, topic: string): { seqs: number[]; gapped: number[] } {
  const gapped: number[] = [];
  for (const g of c.gaps(topic)) for (let s = g.fromSeq; s <= g.toSeq; s++) gapped.push(s);
  return { seqs: c.messages(topic).map((m) => m.seq), gapped };
}

const subscribed = (c: TestClient, n = 1) =>
  c.waitFor(() => c.ofType("subscribed").length >= n, 5000, "subscribed");

Deno.test({
  name:
    `Redis: a publish on either instance reaches subscribers on both with identical seqs${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withCluster({}, async (_redis, a, b) => {
      const onA = await TestClient.connect(wsUrl(a, "?topics=s"));
      const onB = await TestClient.connect(wsUrl(b, "?topics=s"));
      await subscribed(onA);
      await subscribed(onB);
      assert.equal(
        onA.ofType("welcome")[0].epoch,
        onB.ofType("welcome")[0].epoch,
        "one epoch for the cluster",
      );
      for (let i = 1; i <= 20; i++) {
        await publish(i % 2 ? a : b, { topic: "s", key: `k${i % 3}`, data: i });
      }
      for (const c of [onA, onB]) {
        await c.waitFor(() => c.messages().length === 20, 5000, "20 messages");
      }
      const view = (c: TestClient) => c.messages().map((m) => [m.seq, m.data]);
      assert.deepEqual(view(onA), view(onB));
      assert.deepEqual(
        onA.messages().map((m) => m.seq),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const [stateA, stateB] = await Promise.all(
        [a, b].map(async (s) => (await fetch(`${s.url}/topics/s/state`)).json()),
      );
      assert.deepEqual(stateA, stateB);
      assert.deepEqual(stateA.state, { k0: 18, k1: 19, k2: 20 });
      await onA.close();
      await onB.close();
    });
  },
});

Deno.test({
  name:
    `Redis: a client leaving one instance resumes on the other with exactly the missed messages${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withCluster({}, async (_redis, a, b) => {
      const first = await TestClient.connect(wsUrl(a, "?topics=term"));
      await subscribed(first);
      await publish(
        a,
        Array.from({ length: 5 }, (_, i) => ({ topic: "term", data: `line ${i + 1}` })),
      );
      await first.waitFor(() => first.messages().length === 5, 5000, "5 messages");
      const epoch = first.ofType("welcome")[0].epoch;
      await first.close();
      await publish(
        b,
        Array.from({ length: 7 }, (_, i) => ({ topic: "term", data: `line ${i + 6}` })),
      );
      const again = await TestClient.connect(wsUrl(b));
      again.send({ type: "subscribe", topics: ["term"], since: { term: 5 }, epoch });
      await again.waitFor(() => again.messages().length === 7, 5000, "7 replayed messages");
      await publish(a, { topic: "term", data: "line 13" });
      await again.waitFor(
        () => again.messages().length === 8,
        5000,
        "live message from the other instance",
      );
      assert.deepEqual(again.messages().map((m) => m.seq), [6, 7, 8, 9, 10, 11, 12, 13]);
      assert.deepEqual(
        again.messages().map((m) => m.data),
        Array.from({ length: 8 }, (_, i) => `line ${i + 6}`),
      );
      assert.equal(again.gaps().length, 0);
      await again.close();
    });
  },
});

Deno.test({
  name:
    `Redis: seqs an instance missed while cut off from Redis are recovered, or reported as gaps${redisMissing}`,
  ignore: !hasRedis,
  sanitizeResources: false,
  async fn() {
    const redis = await RedisServer.start();
    const proxy = TcpProxy.start(redis.port); // b reaches Redis only through this
    const a = await startServer(testSettings({ redisUrl: redis.url, historySize: 30 }));
    const b = await startServer(
      testSettings({ redisUrl: `redis://127.0.0.1:${proxy.port}`, historySize: 30 }),
    );
    try {
      const onB = await TestClient.connect(wsUrl(b, "?topics=feed"));
      await subscribed(onB);
      await publish(a, Array.from({ length: 10 }, (_, i) => ({ topic: "feed", data: i + 1 })));
      await onB.waitFor(() => onB.messages().length === 10, 5000, "10 messages");

      const cutOff = async (n: number, from: number) => {
        proxy.cut();
        await waitForHealth(b, "degraded");
        await publish(a, Array.from({ length: n }, (_, i) => ({ topic: "feed", data: from + i })));
        proxy.restore();
        await waitForHealth(b, "ok");
      };
      await cutOff(20, 11); // 11..30: all still in the history
      await onB.waitFor(
        () => coverage(onB, "feed").seqs.length === 30,
        10_000,
        "30 messages, recovered",
      );
      assert.deepEqual(coverage(onB, "feed").seqs, Array.from({ length: 30 }, (_, i) => i + 1));
      assert.equal(onB.gaps().length, 0);

      await cutOff(50, 31); // 31..80: the history keeps only the last 30
      await onB.waitFor(
        () => {
          const { seqs, gapped } = coverage(onB, "feed");
          return seqs.length + gapped.length === 80;
        },
        10_000,
        "80 seqs covered",
      );
      const { seqs, gapped } = coverage(onB, "feed");
      assert.deepEqual(
        [...seqs, ...gapped].sort((x, y) => x - y),
        Array.from({ length: 80 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        gapped,
        Array.from({ length: 20 }, (_, i) => 31 + i),
        "the trimmed seqs are reported",
      );
      assert.ok(onB.gaps().every((g) => g.reason === "bus_outage"));
      assert.deepEqual(
        seqs.slice(-30),
        Array.from({ length: 30 }, (_, i) => 51 + i),
        "the retained ones are delivered",
      );
      assert.equal(onB.socket.readyState, WebSocket.OPEN, "the client stayed connected throughout");
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      assert.match(metrics, /^floodgate_bus\{name="reconnects"\} 2$/m);
      assert.match(metrics, /^floodgate_bus\{name="gapped"\} 20$/m);
      await onB.close();
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
      proxy.stop();
      await redis.stop();
    }
  },
});

Deno.test({
  name:
    `Redis: a crash is reported, clients stay connected, and after the restart they resume in the new epoch${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withCluster({}, async (redis, a, b) => {
      const onA = await TestClient.connect(wsUrl(a, "?topics=s"));
      const onB = await TestClient.connect(wsUrl(b, "?topics=s"));
      await subscribed(onA);
      await subscribed(onB);
      await publish(a, [{ topic: "s", key: "x", data: 1 }, { topic: "s", key: "y", data: 2 }]);
      await onB.waitFor(() => onB.messages().length === 2, 5000, "2 messages");
      const oldEpoch = onB.ofType("welcome")[0].epoch;

      await redis.kill(); // SIGKILL, no persistence: Redis loses everything
      const health = await (async () => {
        for (let i = 0; i < 50; i++) {
          const res = await fetch(`${a.url}/healthz`);
          const body = await res.json();
          if (res.status === 503) return body;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error("/healthz never reported the outage");
      })();
      assert.equal(health.status, "degraded");
      assert.equal(health.bus.ok, false);
      const refused = await publish(a, { topic: "s", data: 3 });
      assert.equal(refused.status, 503);
      assert.equal((refused.body.error as { code: string }).code, "unavailable");
      assert.equal(
        onA.socket.readyState,
        WebSocket.OPEN,
        "clients stay connected during the outage",
      );

      await redis.restart();
      // The instances reconnect, find the history gone, and ask clients to reconnect and resume.
      assert.equal((await onA.closed).code, 1012);
      assert.equal((await onB.closed).code, 1012);
      let resumed: TestClient | undefined;
      for (let i = 0; i < 50 && !resumed; i++) {
        if ((await (await fetch(`${b.url}/healthz`)).json()).status === "ok") {
          resumed = await TestClient.connect(wsUrl(b));
        } else await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(resumed, "instance b recovered");
      const newEpoch = resumed.ofType("welcome")[0].epoch;
      assert.notEqual(newEpoch, oldEpoch);
      await publish(a, { topic: "s", key: "z", data: 4 });
      resumed.send({ type: "subscribe", topics: ["s"], since: { s: 2 }, epoch: oldEpoch });
      await subscribed(resumed);
      assert.deepEqual(resumed.gaps(), [{
        type: "gap",
        topic: "s",
        fromSeq: 1,
        toSeq: 1,
        reason: "epoch_changed",
      }]);
      assert.deepEqual(resumed.ofType("snapshot")[0].state, { z: 4 });
      await publish(b, { topic: "s", data: 5 });
      await resumed.waitFor(
        () => resumed!.messages().length === 1,
        5000,
        "a live message after recovery",
      );
      assert.equal(resumed.messages()[0].seq, 2);
      await resumed.close();
    });
  },
});

Deno.test({
  name:
    `Redis: the load tester spreads clients over two instances and every seq arrives at every client${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withCluster({}, async (_redis, a, b) => {
      const result = await runLoad({
        ...defaultConfig(),
        url: a.url,
        alsoUrls: [b.url],
        publishers: 4,
        rate: 50,
        subscribers: 10,
        durationSeconds: 2,
        warmupSeconds: 0.5,
        settleMs: 1000,
      });
      const c = result.correctness.all;
      assert.equal(result.target.url, `${a.url} + ${b.url}`);
      assert.equal(result.connect.failed, 0);
      assert.deepEqual(
        {
          missing: c.missing,
          duplicates: c.duplicates,
          outOfOrder: c.outOfOrder,
          undelivered: c.undelivered,
        },
        { missing: 0, duplicates: 0, outOfOrder: 0, undelivered: 0 },
      );
      assert.ok(c.delivered > 10 * 4 * 50 * 2 * 0.8, `only ${c.delivered} deliveries`);
      const connections = async (s: FloodgateServer) =>
        (await (await fetch(`${s.url}/stats`)).json()).server.counters.connections;
      assert.deepEqual(
        [await connections(a), await connections(b)],
        [5, 5],
        "half the subscribers on each",
      );
    });
  },
});
