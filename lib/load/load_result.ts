/**
 * What a load run measured, as one JSON-serialisable object: the table, the
 * HTML report, `--json` and `--assert` all read it.
 *
 * @module
 */
import type { CapacityResult } from "./capacity_ramp.ts";
import type { LatencySummary } from "./latency_histogram.ts";
import type { LoadConfig } from "./load_config.ts";
import { emptyCounts, type SequenceCounts } from "./sequence_checker.ts";
import type { ServerClientView, ServerSample } from "./server_sampler.ts";
import type { ReadMode } from "./subscriber.ts";

/** Average, lowest and highest of a per-client figure. */
export interface Spread {
  avg: number;
  min: number;
  max: number;
}

/** One subscriber's results. */
export interface ClientResult {
  index: number;
  clientId: string | undefined;
  mode: ReadMode["kind"];
  connectMs: number;
  /** Messages received over the whole run. */
  messages: number;
  /** Messages/s received during the measured window. */
  msgsPerSec: number;
  frames: number;
  bytes: number;
  errors: number;
  latency: LatencySummary;
  /** Summed over its topics. */
  counts: SequenceCounts;
  topics: Record<string, SequenceCounts>;
  close: { code: number; reason: string } | undefined;
  /** What the server's `/stats` last said about it. */
  server: ServerClientView | undefined;
}

/** One point of the timeline (one sample interval of the measured window). */
export interface TimelinePoint {
  /** Seconds since the measured window began (end of the interval). */
  t: number;
  subscribers: number;
  /** Publishes accepted per second. */
  publishedPerSec: number;
  /** Messages per second received by all clients. */
  receivedPerSec: number;
  /** Mean messages per second per fast client. */
  perClientPerSec: number;
  /** Fast clients' latency in this interval, ms (0 when `measured` is 0). */
  p50: number;
  p99: number;
  max: number;
  /** Latencies the fast clients recorded in this interval. */
  measured: number;
  /** Slow clients' p99 in this interval, ms (0 when `slowMeasured` is 0). */
  slowP99: number;
  slowMeasured: number;
  rssBytes: number | undefined;
  cpuPercent: number | undefined;
}

/** Everything a run measured. */
export interface LoadResult {
  scenario: string | undefined;
  config: LoadConfig;
  target: {
    /** The server's URL; instances of a cluster joined with " + ". */
    url: string;
    spawned: boolean;
    /** Flags the spawned server got. */
    serverFlags: string[];
    /** From `/healthz`. */
    mode: string | undefined;
    engine: string | undefined;
    bus: string | undefined;
  };
  machine: { cores: number; os: string; deno: string; cpuModel: string | undefined };
  startedAt: string;
  /** Length of the measured window, s. */
  measuredSeconds: number;
  connect: {
    attempted: number;
    connected: number;
    failed: number;
    /** % of attempts that opened. */
    successRate: number;
    avgMs: number;
    maxMs: number;
    firstError: string | undefined;
  };
  publish: {
    publishers: number;
    over: "http" | "ws";
    /** Publishes/s the run meant to send. */
    offeredPerSec: number;
    sent: number;
    accepted: number;
    failed: number;
    skipped: number;
    acceptedPerSec: number;
    /** Publish round trip (HTTP request, or publish → ack). */
    requestMs: LatencySummary;
    bytes: number;
  };
  latency: {
    from: "sentAt" | "ts";
    fast: LatencySummary;
    slow: LatencySummary;
    /** Fast and slow clients together, per payload kind (`session`, `tree`, `pad`). */
    byKind: Record<string, LatencySummary>;
    /** Fast clients' percentile spectrum: [percentile, ms]. */
    spectrum: [number, number][];
  };
  throughput: {
    expectedPerClient: number;
    fastPerClient: Spread;
    slowPerClient: Spread;
    /** Messages/s received by all clients together during the measured window. */
    totalPerSec: number;
  };
  correctness: {
    /** Every client, every topic. */
    all: SequenceCounts;
    fast: SequenceCounts;
    slow: SequenceCounts;
    byTopic: Record<string, SequenceCounts>;
  };
  slowClients: {
    count: number;
    mode: "slow" | "stall" | undefined;
    messages: number;
    gapped: number;
    closes: Record<string, number>;
    /** From `/stats`: messages the server dropped or coalesced for them. */
    serverDropped: number;
    serverCoalesced: number;
  };
  /** Close codes the server sent, all clients. */
  closes: Record<string, number>;
  server: {
    available: boolean;
    error: string | undefined;
    rssStartBytes: number | undefined;
    rssMaxBytes: number | undefined;
    rssEndBytes: number | undefined;
    /** Over the measured window, % of one core. */
    cpuAvgPercent: number | undefined;
    cpuMaxPercent: number | undefined;
    /** Counter increases over the measured window. */
    delivered: number | undefined;
    bytesSent: number | undefined;
    dropped: number | undefined;
    coalesced: number | undefined;
    gapsSent: number | undefined;
    /**
     * Connections the server saw end during the run, by close code
     * (`floodgate_disconnects_total`), including closes a slow client had not
     * read yet when the run ended.
     */
    disconnects: Record<string, number> | undefined;
    samples: ServerSample[];
  };
  /** The load tester's own CPU over the measured window, % of one core. */
  testerCpuPercent: number | undefined;
  wire: {
    /** Text received by all clients (message payload, no WebSocket framing). */
    receivedBytes: number;
    receivedFrames: number;
    /** Messages per WebSocket frame received (batching). */
    messagesPerFrame: number;
    publishedBytes: number;
  };
  timeline: TimelinePoint[];
  clients: ClientResult[];
  capacity: CapacityResult | undefined;
  /** Things the reader should know to read the figures right. */
  notes: string[];
}

/** Adds up sequence counters. */
export function sumCounts(list: Iterable<SequenceCounts>): SequenceCounts {
  const total = emptyCounts();
  for (const c of list) {
    total.delivered += c.delivered;
    total.gapped += c.gapped;
    total.missing += c.missing;
    total.duplicates += c.duplicates;
    total.outOfOrder += c.outOfOrder;
    total.undelivered += c.undelivered;
  }
  return total;
}

/** Average, lowest and highest of `values` (all 0 when empty). */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { avg: 0, min: 0, max: 0 };
  return {
    avg: values.reduce((a, v) => a + v, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/**
 * The result's figures by the names `--assert` uses (see `assertions.ts`), in
 * base units (ms, counts, %, bytes, msgs/s). Figures the run could not measure
 * are left out.
 */
export function assertionValues(r: LoadResult): Record<string, number> {
  const values: Record<string, number> = {
    p50: r.latency.fast.p50,
    p95: r.latency.fast.p95,
    p99: r.latency.fast.p99,
    p999: r.latency.fast.p999,
    max: r.latency.fast.max,
    mean: r.latency.fast.mean,
    missing: r.correctness.all.missing,
    duplicates: r.correctness.all.duplicates,
    out_of_order: r.correctness.all.outOfOrder,
    gapped: r.correctness.all.gapped,
    "fast.gapped": r.correctness.fast.gapped,
    undelivered: r.correctness.fast.undelivered,
    connect_success: r.connect.successRate,
    connect_failed: r.connect.failed,
    connect_avg: r.connect.avgMs,
    connect_max: r.connect.maxMs,
    msgs_per_client: r.throughput.fastPerClient.min,
    throughput: r.throughput.totalPerSec,
    publish_failed: r.publish.failed,
    publish_skipped: r.publish.skipped,
    client_errors: r.clients.reduce((a, c) => a + c.errors, 0),
    unexpected_closes: r.clients.filter((c) => c.mode === "fast" && c.close).length,
  };
  if (r.slowClients.count > 0) {
    values["slow.p50"] = r.latency.slow.p50;
    values["slow.p99"] = r.latency.slow.p99;
  }
  if (r.server.rssMaxBytes !== undefined) values.rss_max = r.server.rssMaxBytes;
  if (r.server.cpuAvgPercent !== undefined) values.cpu_avg = r.server.cpuAvgPercent;
  if (r.server.cpuMaxPercent !== undefined) values.cpu_max = r.server.cpuMaxPercent;
  for (const [code, n] of Object.entries(r.closes)) values[`closes_${code}`] = n;
  return values;
}
