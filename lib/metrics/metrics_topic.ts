/**
 * Publishes the server's own numbers to the system topic `$metrics` at a fixed
 * interval, keyed by instance, so that a dashboard (or any client) can watch
 * the service over the same WebSocket as its data. The sample's shape is in
 * `lib/protocol/metrics_sample.ts`.
 *
 * @module
 */
import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log/logger.ts";
import type { MemoryLedger } from "../memory/memory_ledger.ts";
import { METRICS_TOPIC, type MetricsSample } from "../protocol/metrics_sample.ts";

export { METRICS_TOPIC, type MetricsSample };

/** Options of {@linkcode startMetricsTopic}. */
export interface MetricsTopicOptions {
  /** Publish every this many ms; 0 or less publishes nothing. */
  intervalMs: number;
  /** The key of this instance's samples. */
  instance: string;
  logger?: Logger;
  /** The memory ledger, for the sample's `memory`. */
  memory?: MemoryLedger;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Starts publishing a {@linkcode MetricsSample} to `$metrics` every
 * `intervalMs`.
 *
 * @returns a function that stops it.
 *
 * @example
 * ```ts ignore
 * const stop = startMetricsTopic(hub, { intervalMs: 1000, instance: "127.0.0.1:8080" });
 * // clients subscribed to "$metrics" get one message per second
 * stop();
 * ```
 */
export function startMetricsTopic(hub: Hub, options: MetricsTopicOptions): () => void {
  if (options.intervalMs <= 0) return () => {};
  const startedAt = Date.now();
  const delays = hub.counters.delayWindow();
  let last = hub.snapshotStats().counters;
  let lastAt = performance.now();
  let publishing = false;
  const timer = setInterval(() => {
    if (publishing) return; // the bus is slower than the interval: skip a beat
    const now = performance.now();
    const stats = hub.snapshotStats();
    const c = stats.counters;
    const seconds = Math.max(0.001, (now - lastAt) / 1000);
    const rate = (a: number, b: number) => round1((a - b) / seconds);
    const queues = { messages: 0, bytes: 0, maxMessages: 0, maxBytes: 0 };
    let slowClients = 0;
    for (const client of hub.clientStats()) {
      queues.messages += client.queue.messages;
      queues.bytes += client.queue.bytes;
      queues.maxMessages = Math.max(queues.maxMessages, client.queue.messages);
      queues.maxBytes = Math.max(queues.maxBytes, client.queue.bytes);
      if (client.slow) slowClients++;
    }
    const sample: MetricsSample = {
      instance: options.instance,
      at: Date.now(),
      intervalMs: Math.round(now - lastAt),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      clients: stats.clients,
      topics: stats.topics,
      blockedClients: stats.blockedClients,
      slowClients,
      laggedClients: stats.laggedClients,
      publishPerSec: rate(c.published, last.published),
      deliveriesPerSec: rate(c.delivered, last.delivered),
      framesPerSec: rate(c.framesSent, last.framesSent),
      bytesPerSec: rate(c.bytesSent, last.bytesSent),
      droppedPerSec: rate(c.dropped, last.dropped),
      coalescedPerSec: rate(c.coalesced, last.coalesced),
      gapsPerSec: rate(c.gapsSent, last.gapsSent),
      connectsPerSec: rate(c.connections, last.connections),
      totals: {
        published: c.published,
        delivered: c.delivered,
        dropped: c.dropped,
        coalesced: c.coalesced,
        connections: c.connections,
      },
      queues,
      disconnectsByCode: Object.fromEntries(
        Object.entries(c.disconnectsByCode).map(([code, n]) => [String(code), n]),
      ),
      disconnectsBy: c.disconnectsBy,
      queueDelayMs: delays.take(),
    };
    if (options.memory) {
      const ledger = options.memory.update();
      const process = Deno.memoryUsage();
      sample.memory = {
        heldBytes: ledger.totalBytes,
        budgetBytes: ledger.budgetBytes,
        pressure: ledger.pressure,
        rssBytes: process.rss,
        heapUsedBytes: process.heapUsed,
        externalBytes: process.external,
      };
    }
    last = c;
    lastAt = now;
    publishing = true;
    hub.publish([{ topic: METRICS_TOPIC, key: options.instance, data: sample }])
      .catch((err) => options.logger?.warn("metrics_topic.publish_failed", { error: err }))
      .finally(() => (publishing = false));
  }, options.intervalMs);
  return () => {
    clearInterval(timer);
    delays.close();
  };
}
