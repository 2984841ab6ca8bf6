/**
 * Combines the `$metrics` samples of several server instances into one view:
 * counts and rates add up, latency percentiles take the worst instance.
 *
 * @module
 */
import type {
  LatencyPercentiles,
  MemorySample,
  MetricsSample,
} from "../protocol/metrics_sample.ts";

/**
 * One sample for the whole service, or undefined when there is none. Samples
 * older than `staleMs` before the newest are left out (a stopped instance).
 *
 * @example
 * ```ts ignore
 * const total = aggregateSamples([...fg.state<MetricsSample>("$metrics").entries()].map(([, s]) => s));
 * ```
 */
export function aggregateSamples(
  samples: readonly MetricsSample[],
  staleMs = 10_000,
): MetricsSample | undefined {
  if (samples.length === 0) return undefined;
  const newest = Math.max(...samples.map((s) => s.at));
  const live = samples.filter((s) => newest - s.at <= staleMs);
  if (live.length === 1) return live[0];
  const sum = (f: (s: MetricsSample) => number) => live.reduce((n, s) => n + f(s), 0);
  const max = (f: (s: MetricsSample) => number) => Math.max(...live.map(f));
  const worst = (f: (s: MetricsSample) => LatencyPercentiles): LatencyPercentiles => ({
    count: sum((s) => f(s).count),
    p50: max((s) => f(s).p50),
    p95: max((s) => f(s).p95),
    p99: max((s) => f(s).p99),
    max: max((s) => f(s).max),
  });
  const disconnectsByCode: Record<string, number> = {};
  for (const s of live) {
    for (const [code, n] of Object.entries(s.disconnectsByCode)) {
      disconnectsByCode[code] = (disconnectsByCode[code] ?? 0) + n;
    }
  }
  // Merged by who closed only when every instance reports it.
  let disconnectsBy: MetricsSample["disconnectsBy"] = { client: {}, server: {} };
  for (const s of live) {
    if (s.disconnectsBy === undefined) {
      disconnectsBy = undefined;
      break;
    }
    for (const closer of ["client", "server"] as const) {
      const into = disconnectsBy[closer];
      for (const [code, n] of Object.entries(s.disconnectsBy[closer])) {
        into[code] = (into[code] ?? 0) + n;
      }
    }
  }
  const ratios = live.map((s) => s.compressionRatio).filter((r): r is number => r !== undefined);
  const out: MetricsSample = {
    instance: live.map((s) => s.instance).join(", "),
    at: newest,
    intervalMs: max((s) => s.intervalMs),
    uptimeSeconds: max((s) => s.uptimeSeconds),
    clients: sum((s) => s.clients),
    topics: max((s) => s.topics),
    blockedClients: sum((s) => s.blockedClients),
    slowClients: sum((s) => s.slowClients),
    laggedClients: sum((s) => s.laggedClients ?? 0),
    publishPerSec: sum((s) => s.publishPerSec),
    deliveriesPerSec: sum((s) => s.deliveriesPerSec),
    framesPerSec: sum((s) => s.framesPerSec),
    bytesPerSec: sum((s) => s.bytesPerSec),
    droppedPerSec: sum((s) => s.droppedPerSec),
    coalescedPerSec: sum((s) => s.coalescedPerSec),
    gapsPerSec: sum((s) => s.gapsPerSec),
    connectsPerSec: sum((s) => s.connectsPerSec),
    totals: {
      published: sum((s) => s.totals.published),
      delivered: sum((s) => s.totals.delivered),
      dropped: sum((s) => s.totals.dropped),
      coalesced: sum((s) => s.totals.coalesced),
      connections: sum((s) => s.totals.connections),
    },
    queues: {
      messages: sum((s) => s.queues.messages),
      bytes: sum((s) => s.queues.bytes),
      maxMessages: max((s) => s.queues.maxMessages),
      maxBytes: max((s) => s.queues.maxBytes),
    },
    disconnectsByCode,
    disconnectsBy,
    queueDelayMs: worst((s) => s.queueDelayMs),
  };
  if (ratios.length > 0) out.compressionRatio = ratios.reduce((a, b) => a + b) / ratios.length;
  const memories = live.flatMap((s) => s.memory === undefined ? [] : [s.memory]);
  if (memories.length > 0) {
    const total = (f: (m: MemorySample) => number) => memories.reduce((a, m) => a + f(m), 0);
    const rank = { ok: 0, shedding: 1, overloaded: 2 } as const;
    out.memory = {
      heldBytes: total((m) => m.heldBytes),
      budgetBytes: total((m) => m.budgetBytes),
      pressure: memories.reduce(
        (worst, m) => rank[m.pressure] > rank[worst] ? m.pressure : worst,
        "ok" as MemorySample["pressure"],
      ),
      rssBytes: total((m) => m.rssBytes),
      heapUsedBytes: total((m) => m.heapUsedBytes),
      externalBytes: total((m) => m.externalBytes),
    };
  }
  return out;
}
