import assert from "node:assert/strict";
import { aggregateSamples } from "../../lib/dashboard/metrics_aggregate.ts";
import type { MetricsSample } from "../../lib/protocol/metrics_sample.ts";

function sample(instance: string, at: number, n: number): MetricsSample {
  return {
    instance,
    at,
    intervalMs: 1000,
    uptimeSeconds: 10 * n,
    clients: n,
    topics: n,
    blockedClients: 0,
    slowClients: n,
    laggedClients: instance === "b" ? undefined : n,
    publishPerSec: 10 * n,
    deliveriesPerSec: 100 * n,
    framesPerSec: n,
    bytesPerSec: n,
    droppedPerSec: n,
    coalescedPerSec: 0,
    gapsPerSec: 0,
    connectsPerSec: 0,
    totals: { published: n, delivered: n, dropped: n, coalesced: 0, connections: n },
    queues: { messages: n, bytes: n, maxMessages: n, maxBytes: n },
    disconnectsByCode: { "1000": n, [String(4000 + n)]: 1 },
    queueDelayMs: { count: 10, p50: n, p95: 2 * n, p99: 3 * n, max: 4 * n },
  };
}

Deno.test("aggregateSamples adds counts across instances and keeps the worst latency", () => {
  const total = aggregateSamples([sample("a", 1000, 1), sample("b", 1500, 2)])!;
  assert.equal(total.clients, 3);
  assert.equal(total.laggedClients, 1, "an instance without the field counts none");
  assert.equal(total.deliveriesPerSec, 300);
  assert.equal(total.queues.maxMessages, 2);
  assert.deepEqual(total.disconnectsByCode, { "1000": 3, "4001": 1, "4002": 1 });
  assert.deepEqual(total.queueDelayMs, { count: 20, p50: 2, p95: 4, p99: 6, max: 8 });
  assert.equal(total.compressionRatio, undefined);
  assert.equal(total.instance, "a, b");
});

Deno.test("aggregateSamples leaves out instances that stopped reporting", () => {
  const only = aggregateSamples([sample("gone", 0, 5), sample("live", 60_000, 1)]);
  assert.equal(only?.instance, "live");
  assert.equal(aggregateSamples([]), undefined);
});
