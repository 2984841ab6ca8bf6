/**
 * The `$metrics` system topic: the server publishes one {@linkcode MetricsSample}
 * per interval (`--metrics-interval`), keyed by instance. Clients such as the
 * dashboard read it like any keyed topic.
 *
 * @module
 */

/** Who closed a connection: the client (or the network between), or the server. */
export type Closer = "client" | "server";

/** The system topic the samples go to. */
export const METRICS_TOPIC = "$metrics";

/** Latency percentiles in milliseconds. */
export interface LatencyPercentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** An instance's memory: its ledger against `--memory-budget`, and the process's own figures. */
export interface MemorySample {
  /** Bytes held for clients and topics (queues, history, state, reassembly, state reads). */
  heldBytes: number;
  budgetBytes: number;
  pressure: "ok" | "shedding" | "overloaded";
  rssBytes: number;
  heapUsedBytes: number;
  /** Memory outside the V8 heap (ArrayBuffers). */
  externalBytes: number;
}

/** One `$metrics` message's `data`: rates are per second over the last interval. */
export interface MetricsSample {
  /** The publishing instance (also the message key). */
  instance: string;
  /** Sample time, epoch ms. */
  at: number;
  /** Length of the interval the rates cover, in ms. */
  intervalMs: number;
  uptimeSeconds: number;
  clients: number;
  topics: number;
  /** Clients whose writes flow control paused. */
  blockedClients: number;
  /** Clients blocked or with an overflowing queue. */
  slowClients: number;
  /**
   * Clients reading more than `--max-lag` behind, kept current by coalescing and
   * dropping (absent from instances older than this field).
   */
  laggedClients?: number;
  publishPerSec: number;
  deliveriesPerSec: number;
  framesPerSec: number;
  bytesPerSec: number;
  droppedPerSec: number;
  coalescedPerSec: number;
  gapsPerSec: number;
  connectsPerSec: number;
  /** Totals since the server started. */
  totals: {
    published: number;
    delivered: number;
    dropped: number;
    coalesced: number;
    connections: number;
  };
  /** Messages and bytes waiting in client queues: summed, and the largest single queue. */
  queues: { messages: number; bytes: number; maxMessages: number; maxBytes: number };
  /** Disconnects since start, by close code. */
  disconnectsByCode: Record<string, number>;
  /** Disconnects since start by who closed, then close code (absent from older servers). */
  disconnectsBy?: Record<Closer, Record<string, number>>;
  /** Time from publish to socket write over the interval. */
  queueDelayMs: LatencyPercentiles;
  /** Memory (absent from instances older than this field). */
  memory?: MemorySample;
  /**
   * Bytes before ÷ bytes after compression, when the server compresses
   * (permessage-deflate); absent otherwise.
   */
  compressionRatio?: number;
}
