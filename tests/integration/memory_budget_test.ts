/**
 * `--memory-budget` over real sockets: past 90 % of it the largest queues are
 * shed (coalesced and dropped, with gaps); past the budget, new connections
 * and publishes get 503 `overloaded`, deletes still pass; clients already
 * connected keep being served throughout.
 */
import assert from "node:assert/strict";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import { fetchMetrics } from "../../lib/load/prometheus_text.ts";
import { MEMORY_HOLDERS } from "../../lib/memory/memory_ledger.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

async function memory(url: string) {
  const metrics = await fetchMetrics(`${url}/metrics`);
  return {
    queues: metrics.get('floodgate_memory_held_bytes{holder="queues"}') ?? NaN,
    state: metrics.get('floodgate_memory_held_bytes{holder="state"}') ?? NaN,
    shed: metrics.get("floodgate_memory_shed_bytes_total") ?? NaN,
    pressure: metrics.get("floodgate_memory_pressure") ?? NaN,
  };
}

async function until(what: string, ok: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("--memory-budget sheds the largest queue first, then refuses with 503 overloaded, and keeps serving", async () => {
  const settings = { memoryBudget: 2 * MiB, historyBytes: 128 * KiB, heartbeatMs: 60_000 };
  await withServer(settings, async (server) => {
    const stalled = await RawWebSocket.connect(wsUrl(server, "?topics=feed"));
    const fast = await TestClient.connect(wsUrl(server, "?topics=feed"), { plain: true });
    await fast.waitFor(() => fast.ofType("subscribed").length === 1);

    // 1. Queues: the stalled client's grows past 90 % of the budget; it is shed, not the server.
    const pad = "q".repeat(20 * KiB);
    for (let i = 0; i < 150; i++) await publish(server, { topic: "feed", data: { i, pad } });
    await fast.waitFor(() => fast.messages("feed").length === 150, 10_000, "150 messages");
    assert.equal(fast.gaps().length, 0, "the fast client lost nothing");
    // The guard checks four times a second: once publishing stops, queues are back under 90 %.
    let last = await memory(server.url);
    await until("queues shed under 90 % of the budget", async () => {
      last = await memory(server.url);
      return last.shed > 0 && last.queues <= 2 * MiB * 0.9;
    }).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
    const stats = await (await fetch(`${server.url}/stats`)).json();
    const slow = stats.clients.find((c: { id: string }) =>
      c.id !== fast.ofType("welcome")[0].clientId
    );
    assert.ok(slow.dropped + slow.coalesced > 0, "the stalled client's queue was shed");
    assert.equal(stats.memory.budgetBytes, 2 * MiB);

    // 2. Keyed state cannot be shed: past the budget, connections and publishes are refused.
    const big = "s".repeat(100 * KiB);
    for (let k = 0; k < 24; k++) {
      await publish(server, { topic: "state", key: `k${k}`, data: big });
    }
    await until("overloaded", async () => (await memory(server.url)).pressure === 2);
    const refused = await publish(server, { topic: "feed", data: "more" });
    assert.equal(refused.status, 503);
    assert.equal((refused.body.error as { code: string }).code, "overloaded");
    const upgrade = await fetch(`${server.url}/ws`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    assert.equal(upgrade.status, 503);
    assert.equal(upgrade.headers.get("retry-after"), "1");
    await upgrade.body?.cancel();
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 503);
    assert.equal((await health.json()).memory.pressure, "overloaded");

    // 3. Deletes still pass and free the state; then publishing works again.
    for (let k = 0; k < 24; k++) {
      const res = await publish(server, { topic: "state", key: `k${k}`, delete: true });
      assert.equal(res.status, 202);
    }
    await until("pressure ok", async () => (await memory(server.url)).pressure === 0);
    assert.equal((await publish(server, { topic: "feed", data: "after" })).status, 202);
    await fast.waitFor(() => fast.messages("feed").length === 151, 5000, "the message after");
    assert.equal(fast.socket.readyState, WebSocket.OPEN, "the fast client was served throughout");
    stalled.abort();
    await fast.close();
  });
});

Deno.test("/metrics shows every holder of the memory ledger, the budget and the process's memory", async () => {
  await withServer({}, async (server) => {
    const metrics = await fetchMetrics(`${server.url}/metrics`);
    for (const holder of MEMORY_HOLDERS) {
      assert.ok(
        metrics.has(`floodgate_memory_held_bytes{holder="${holder}"}`),
        `floodgate_memory_held_bytes{holder="${holder}"}`,
      );
    }
    assert.equal(metrics.get("floodgate_memory_budget_bytes"), 512 * MiB);
    for (const kind of ["rss", "heap_used", "heap_total", "external"]) {
      assert.ok((metrics.get(`floodgate_process_memory_bytes{kind="${kind}"}`) ?? 0) > 0, kind);
    }
  });
});
