/**
 * Prometheus metrics, rendered by prom-client from the hub's plain counters at
 * scrape time (nothing on the per-message path touches prom-client).
 *
 * @module
 */
import client from "prom-client";
import type { Bus } from "../bus/bus.ts";
import type { CompressionStats } from "../hub/frame_compressor.ts";
import type { Hub } from "../hub/hub.ts";
import type { MemoryLedger } from "../memory/memory_ledger.ts";
import { registerMemoryMetrics } from "./memory_metrics.ts";

/** A registry bound to one hub. */
export interface Metrics {
  /** Renders the Prometheus text exposition. */
  render(): Promise<string>;
  /** The `Content-Type` of {@linkcode Metrics.render}'s output. */
  readonly contentType: string;
  /** The underlying registry, for extra collectors. */
  readonly registry: client.Registry;
}

type CounterKey =
  | "published"
  | "delivered"
  | "framesSent"
  | "bytesSent"
  | "gapsSent"
  | "dropped"
  | "coalesced"
  | "connections"
  | "framesReceived"
  | "errors"
  | "oversizeFrames"
  | "slowDisconnects"
  | "heartbeatTimeouts"
  | "resumes"
  | "replayed"
  | "chunkedSent"
  | "chunkFramesSent"
  | "chunkedReceived"
  | "chunkedRefused"
  | "shedBytes";

const COUNTERS: readonly [CounterKey, string, string][] = [
  ["published", "floodgate_published_total", "Messages published"],
  ["delivered", "floodgate_delivered_total", "Messages written to client sockets"],
  ["framesSent", "floodgate_frames_sent_total", "WebSocket frames written by client queues"],
  ["bytesSent", "floodgate_bytes_sent_total", "Bytes written by client queues"],
  ["gapsSent", "floodgate_gaps_sent_total", "Gap notices sent to clients"],
  ["dropped", "floodgate_dropped_total", "Messages dropped from client queues (oldest first)"],
  ["coalesced", "floodgate_coalesced_total", "Messages replaced by a newer one with the same key"],
  ["connections", "floodgate_connections_total", "WebSocket connections accepted"],
  ["framesReceived", "floodgate_frames_received_total", "WebSocket frames received from clients"],
  ["errors", "floodgate_client_errors_total", "Error frames sent for bad client input"],
  ["oversizeFrames", "floodgate_oversize_frames_total", "Inbound frames over --max-inbound-bytes"],
  ["slowDisconnects", "floodgate_slow_disconnects_total", "Clients closed with 4008 slow consumer"],
  [
    "shedBytes",
    "floodgate_memory_shed_bytes_total",
    "Queued bytes coalesced or dropped (with gaps) because the server neared --memory-budget",
  ],
  [
    "heartbeatTimeouts",
    "floodgate_heartbeat_timeouts_total",
    "Clients closed with 4009 heartbeat timeout",
  ],
  ["chunkedSent", "floodgate_chunked_messages_sent_total", "Frames sent to a client in chunks"],
  ["chunkFramesSent", "floodgate_chunk_frames_sent_total", "chunked.start/data/end frames sent"],
  [
    "chunkedReceived",
    "floodgate_chunked_messages_received_total",
    "Chunked messages received whole from clients",
  ],
  [
    "chunkedRefused",
    "floodgate_chunked_messages_refused_total",
    "Chunked messages from clients refused: too large, malformed or not finished in time",
  ],
];

type CompressionKey = keyof CompressionStats;

const COMPRESSION: readonly [CompressionKey, string, string, number][] = [
  ["compressed", "floodgate_compression_frames_total", "Distinct frames compressed (once each)", 1],
  ["inputBytes", "floodgate_compression_input_bytes_total", "Bytes fed to deflate", 1],
  ["outputBytes", "floodgate_compression_output_bytes_total", "Bytes deflate produced", 1],
  ["cpuMs", "floodgate_compression_cpu_seconds_total", "Time spent compressing", 1 / 1000],
  ["framesSent", "floodgate_compressed_frames_sent_total", "Frames sent compressed", 1],
  [
    "sentRawBytes",
    "floodgate_compressed_frames_raw_bytes_total",
    "Uncompressed size of the frames sent compressed",
    1,
  ],
  [
    "sentWireBytes",
    "floodgate_compressed_frames_wire_bytes_total",
    "Compressed size of the frames sent compressed",
    1,
  ],
  [
    "skippedBudget",
    "floodgate_compression_skipped_budget_total",
    "Frames sent uncompressed because --compression-budget was spent",
    1,
  ],
  [
    "skippedNoGain",
    "floodgate_compression_skipped_no_gain_total",
    "Frames sent uncompressed because deflate did not shrink them",
    1,
  ],
];

/**
 * Creates a registry with Floodgate's metrics and the process metrics (CPU,
 * RSS, event-loop lag).
 *
 * @example
 * ```ts ignore
 * const metrics = createMetrics(hub);
 * const text = await metrics.render(); // "# HELP floodgate_clients ..."
 * ```
 */
export function createMetrics(
  hub: Hub,
  limits: Record<string, number> = {},
  bus?: Bus,
  memory?: MemoryLedger,
): Metrics {
  const registry = new client.Registry();
  try {
    client.collectDefaultMetrics({ register: registry });
    // prom-client reads RSS from /proc/self/status, which Deno only opens with --allow-all, so it
    // reported 0 under `deno task start`; the runtime's own figure needs no permission.
    registry.removeSingleMetric("process_resident_memory_bytes");
    new client.Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers: [registry],
      collect() {
        this.set(Deno.memoryUsage().rss);
      },
    });
  } catch {
    // Process metrics are unavailable on some hosts (e.g. sandboxed platforms); the rest still works.
  }
  let snapshot = hub.snapshotStats();
  const refresh = () => {
    snapshot = hub.snapshotStats();
  };

  new client.Gauge({
    name: "floodgate_clients",
    help: "Connected WebSocket clients",
    registers: [registry],
    collect() {
      refresh(); // first collector: take one snapshot for this scrape
      this.set(snapshot.clients);
    },
  });
  new client.Gauge({
    name: "floodgate_topics",
    help: "Topics with at least one local subscriber",
    registers: [registry],
    collect() {
      this.set(snapshot.topics);
    },
  });
  new client.Gauge({
    name: "floodgate_blocked_clients",
    help: "Clients whose writes are paused by flow control",
    registers: [registry],
    collect() {
      this.set(snapshot.blockedClients);
    },
  });
  new client.Gauge({
    name: "floodgate_lagged_clients",
    help: "Clients reading more than --max-lag behind (kept current by coalescing and dropping)",
    registers: [registry],
    collect() {
      this.set(snapshot.laggedClients);
    },
  });
  new client.Gauge({
    name: "floodgate_queued_messages",
    help: "Messages waiting in client queues",
    registers: [registry],
    collect() {
      let total = 0;
      for (const c of hub.clientStats()) total += c.queue.messages;
      this.set(total);
    },
  });
  const counter = (name: string, help: string, value: () => number) =>
    new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  for (const [key, name, help] of COUNTERS) counter(name, help, () => snapshot.counters[key]);
  for (const [key, name, help, scale] of COMPRESSION) {
    counter(name, help, () => (snapshot.compression?.[key] ?? 0) * scale);
  }
  new client.Gauge({
    name: "floodgate_compression_ratio",
    help: "Uncompressed / compressed bytes of the frames compressed so far (0 before any)",
    registers: [registry],
    collect() {
      const c = snapshot.compression;
      this.set(c && c.outputBytes > 0 ? c.inputBytes / c.outputBytes : 0);
    },
  });
  new client.Counter({
    name: "floodgate_disconnects_total",
    help: "Client disconnects by close code",
    labelNames: ["code"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(snapshot.counters.disconnectsByCode)) {
        this.inc({ code }, n);
      }
    },
  });
  new client.Counter({
    name: "floodgate_closes_total",
    help: "Client disconnects by who closed (client or server) and close code",
    labelNames: ["by", "code"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [by, codes] of Object.entries(snapshot.counters.disconnectsBy)) {
        for (const [code, n] of Object.entries(codes)) this.inc({ by, code }, n);
      }
    },
  });
  new client.Counter({
    name: "floodgate_rejections_total",
    help:
      "Requests, connections and frames refused, by reason (unauthorized, forbidden, token_expired, rate_limited, inbound_rate, connection_limit, topic_limit, limit_reached)",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(snapshot.counters.rejections)) {
        this.inc({ reason }, n);
      }
    },
  });
  if (bus) {
    new client.Gauge({
      name: "floodgate_bus_up",
      help: `1 while the cluster bus (${bus.name}) is reachable`,
      registers: [registry],
      collect() {
        this.set(bus.health().ok ? 1 : 0);
      },
    });
    new client.Gauge({
      name: "floodgate_bus",
      help: "Cluster bus counters (reconnects, recovered and gapped seqs, epoch changes, topics)",
      labelNames: ["name"],
      registers: [registry],
      collect() {
        for (const [name, value] of Object.entries(bus.counters())) this.set({ name }, value);
      },
    });
  }
  const limitGauge = new client.Gauge({
    name: "floodgate_limit",
    help: "Configured limits (0 = no limit)",
    labelNames: ["name"],
    registers: [registry],
  });
  for (const [name, value] of Object.entries(limits)) limitGauge.set({ name }, value);
  for (
    const [field, name, help] of [
      ["queueDelayMs", "floodgate_queue_delay_seconds", "Time from publish to socket write"],
      ["fanoutMs", "floodgate_fanout_seconds", "Time to fan one publish out to local queues"],
    ] as const
  ) {
    new client.Gauge({
      name,
      help: `${help} (quantiles since start)`,
      labelNames: ["quantile"],
      registers: [registry],
      collect() {
        const p = snapshot.counters[field];
        this.set({ quantile: "0.5" }, p.p50 / 1000);
        this.set({ quantile: "0.95" }, p.p95 / 1000);
        this.set({ quantile: "0.99" }, p.p99 / 1000);
        this.set({ quantile: "1" }, p.max / 1000);
      },
    });
  }
  if (memory) registerMemoryMetrics(registry, memory);
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
