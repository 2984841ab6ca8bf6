import assert from "node:assert/strict";
import type { MetricsSample } from "../../lib/metrics/metrics_topic.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

Deno.test("the server publishes its own metrics to $metrics, keyed by instance", async () => {
  await withServer({ metricsIntervalMs: 100 }, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=$metrics,t"));
    await c.waitFor(() => c.ofType("subscribed").length === 2, 5000, "subscribed");
    await publish(server, Array.from({ length: 30 }, (_, i) => ({ topic: "t", data: i })));
    const busy = (m: { data?: unknown }) => (m.data as MetricsSample).publishPerSec >= 30;
    await c.waitFor(() => c.messages("$metrics").some(busy), 5000, "a sample with the publishes");
    const sample = c.messages("$metrics").find(busy)!;
    const data = sample.data as MetricsSample;
    assert.equal(sample.key, `127.0.0.1:${server.port}`);
    assert.equal(data.instance, sample.key);
    assert.equal(data.clients, 1);
    assert.ok(data.deliveriesPerSec >= 30, "the 30 deliveries are counted");
    assert.ok(data.totals.published >= 30);
    assert.ok(data.queueDelayMs.count >= 1, "queue delay comes from this interval's frames");
    assert.deepEqual(Object.keys(data.queues), ["messages", "bytes", "maxMessages", "maxBytes"]);
    assert.equal(data.compressionRatio, undefined, "no compression on this server");
    const state = await (await fetch(`${server.url}/topics/$metrics/state`)).json();
    assert.deepEqual(Object.keys(state.state), [sample.key], "the latest sample is keyed state");
    await c.close();
  });
});

Deno.test("the $metrics publisher counts disconnects by close code and by who closed", async () => {
  await withServer({ metricsIntervalMs: 100 }, async (server) => {
    const other = await TestClient.connect(wsUrl(server));
    await other.close();
    const c = await TestClient.connect(wsUrl(server, "?topics=$metrics"));
    const closed = (m: { data?: unknown }) => {
      const sample = m.data as MetricsSample;
      return sample.disconnectsByCode["1000"] === 1 &&
        sample.disconnectsBy?.client["1000"] === 1 &&
        sample.disconnectsBy.server["1000"] === undefined;
    };
    await c.waitFor(() => c.messages("$metrics").some(closed), 5000, "the 1000 disconnect");
    await c.close();
  });
});

Deno.test("--metrics-interval 0 publishes nothing to $metrics", async () => {
  await withServer({ metricsIntervalMs: 0 }, async (server) => {
    await new Promise((r) => setTimeout(r, 300));
    const state = await (await fetch(`${server.url}/topics/$metrics/state`)).json();
    assert.equal(state.seq, 0);
  });
});
