import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log/logger.ts";

/**
 * Logs one `summary` line every `intervalMs`: clients, publish and delivery
 * rates, queue delay percentiles, slow clients and disconnects in the interval.
 *
 * @returns a function that stops it.
 */
export function startSummaryLog(hub: Hub, logger: Logger, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  let last = hub.snapshotStats().counters;
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const stats = hub.snapshotStats();
    const c = stats.counters;
    const seconds = (now - lastAt) / 1000;
    const rate = (a: number, b: number) => Math.round(((a - b) / seconds) * 10) / 10;
    const disconnects = Object.values(c.disconnectsByCode).reduce((a, b) => a + b, 0) -
      Object.values(last.disconnectsByCode).reduce((a, b) => a + b, 0);
    const window = hub.counters.takeWindowDelay();
    logger.info("summary", {
      clients: stats.clients,
      topics: stats.topics,
      blocked: stats.blockedClients,
      publishPerSec: rate(c.published, last.published),
      deliveriesPerSec: rate(c.delivered, last.delivered),
      framesPerSec: rate(c.framesSent, last.framesSent),
      queueDelayMs: { p50: window.p50, p95: window.p95, p99: window.p99 },
      dropped: c.dropped - last.dropped,
      coalesced: c.coalesced - last.coalesced,
      disconnects,
    });
    last = c;
    lastAt = now;
  }, intervalMs);
  return () => clearInterval(timer);
}
