/** Flush intervals, graceful shutdown, /stats and structured logs, over real sockets. */
import assert from "node:assert/strict";
import { Logger } from "../../lib/log/logger.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";
import { startServer } from "../../lib/server.ts";
import { testSettings } from "../_support/server.ts";

Deno.test("--flush-ms sends one batch per interval with the latest value per key, gaps for the rest", async () => {
  await withServer({ flushMs: 200 }, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=s"));
    await c.waitFor(() => c.ofType("subscribed").length === 1, 5000, "subscribed");
    const before = c.rawFrames;
    for (let i = 1; i <= 10; i++) await publish(server, { topic: "s", key: `k${i % 2}`, data: i });
    await c.waitFor(() => c.messages().length === 2, 5000, "the two latest values");
    assert.equal(c.rawFrames - before, 1, "one frame for the whole interval");
    assert.deepEqual(c.messages().map((m) => [m.key, m.data]), [["k1", 9], ["k0", 10]]);
    const gaps = c.gaps();
    assert.ok(gaps.every((g) => g.reason === "coalesced"));
    const covered = gaps.reduce((n, g) => n + g.toSeq - g.fromSeq + 1, 0);
    assert.equal(covered + c.messages().length, 10, "every seq is a message or inside a gap");
    await c.close();
  });
});

Deno.test("shutdown flushes queued messages, then closes clients with 1001", async () => {
  const server = await startServer(testSettings({ shutdownTimeoutMs: 2000 }));
  const c = await TestClient.connect(wsUrl(server, "?topics=t"));
  await c.waitFor(() => c.ofType("subscribed").length === 1, 5000, "subscribed");
  await publish(server, Array.from({ length: 50 }, (_, i) => ({ topic: "t", data: i })));
  await server.shutdown();
  const closed = await c.closed;
  assert.equal(closed.code, 1001);
  assert.equal(closed.reason, "server shutting down");
  assert.equal(c.messages().length, 50);
  await assert.rejects(fetch(`${server.url}/healthz`), "the listener is closed");
});

Deno.test("/stats reports each client's queue, sends, flow control and connection time", async () => {
  await withServer({}, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=a,b"));
    await c.waitFor(() => c.ofType("subscribed").length === 2, 5000, "subscribed");
    await publish(server, [{ topic: "a", data: 1 }, { topic: "b", data: 2 }]);
    await c.waitFor(() => c.messages().length === 2, 5000, "messages");
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(stats.server.clients, 1);
    assert.equal(stats.server.counters.published, 2);
    assert.equal(stats.server.counters.delivered, 2);
    const [client] = stats.clients;
    assert.equal(client.id, c.ofType("welcome")[0].clientId);
    assert.deepEqual(client.topics.sort(), ["a", "b"]);
    assert.equal(client.sent.messages, 2);
    assert.deepEqual(client.queue, { messages: 0, items: 0, bytes: 0 });
    for (
      const field of ["dropped", "coalesced", "bufferedAmount", "inflightBytes", "connectedMs"]
    ) {
      assert.equal(typeof client[field], "number", field);
    }
    assert.equal(client.slow, false);
    await c.close();
  });
});

Deno.test("logs are JSON lines: connect, disconnect with reason, slow fan-out warning", async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({ level: "info", sink: (line) => lines.push(JSON.parse(line)) });
  // A fan-out threshold of 0 ms makes every publish a "slow" one, so the warning is deterministic.
  const server = await startServer(testSettings({ slowFanoutMs: 0 }), { logger });
  try {
    const c = await TestClient.connect(wsUrl(server, "?topics=t"));
    await c.waitFor(() => c.ofType("subscribed").length === 1, 5000, "subscribed");
    await publish(server, { topic: "t", data: 1 });
    await c.waitFor(() => c.messages().length === 1, 5000, "message");
    await c.close();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    await server.shutdown();
  }
  const events = lines.map((l) => l.event);
  for (
    const e of [
      "server.listen",
      "client.connect",
      "fanout.slow",
      "client.disconnect",
      "server.stopped",
    ]
  ) {
    assert.ok(events.includes(e), `missing ${e} in ${events.join(", ")}`);
  }
  const disconnect = lines.find((l) => l.event === "client.disconnect")!;
  assert.equal(disconnect.code, 1000);
  assert.equal(disconnect.by, "peer");
  for (const l of lines) assert.equal(typeof l.ts, "string");
});
