/**
 * Turns what a load run collected (fleet reports, publisher reports, server
 * samples, timeline) into its {@linkcode LoadResult}: totals, spreads,
 * correctness per group and topic, and notes on how to read the figures.
 *
 * @module
 */
import os from "node:os";
import type { LatencySummary } from "./latency_histogram.ts";
import { type LoadConfig, redactedConfig, topicsOf } from "./load_config.ts";
import {
  type ClientResult,
  type LoadResult,
  spread,
  sumCounts,
  type TimelinePoint,
} from "./load_result.ts";
import type { RunOptions } from "./load_run.ts";
import type { PublisherReport } from "./publisher.ts";
import type { ServerSample, ServerSampler } from "./server_sampler.ts";
import type { FleetReport, SubscriberFleet } from "./subscriber_fleet.ts";

const SPECTRUM = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

/** What a run collected. */
export interface RunParts {
  config: LoadConfig;
  options: RunOptions;
  /** From `/healthz`. */
  info: { mode?: string; engine?: string; bus?: { name?: string } };
  startedAt: string;
  measuredSeconds: number;
  expected: number;
  fleet: SubscriberFleet;
  reports: FleetReport[];
  publisherReports: PublisherReport[];
  /** All publishers' round trips, pooled. */
  requestLatency: LatencySummary;
  sampler: ServerSampler;
  /** Server samples at the measured window's start and end, and after settling. */
  baseline: ServerSample | undefined;
  windowEnd: ServerSample | undefined;
  final: ServerSample | undefined;
  timeline: TimelinePoint[];
  testerCpuPercent: number | undefined;
  capacity: LoadResult["capacity"];
}

/** Disconnects by code between two samples. */
function codeDelta(from: ServerSample, to: ServerSample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, n] of Object.entries(to.disconnects)) {
    const d = n - (from.disconnects[code] ?? 0);
    if (d > 0) out[code] = d;
  }
  return out;
}

/** Builds the result of a run from what it collected. */
export function summarizeRun(p: RunParts): LoadResult {
  const { config, fleet, reports, sampler } = p;
  const clients: ClientResult[] = reports.map((r) => ({
    index: r.index,
    clientId: r.clientId,
    mode: r.mode,
    connectMs: r.connectMs,
    messages: r.messages,
    msgsPerSec: r.msgsPerSec,
    frames: r.frames,
    bytes: r.bytes,
    errors: r.errors,
    latency: r.latency,
    counts: sumCounts(Object.values(r.topics)),
    topics: r.topics,
    close: r.close,
    server: sampler.client(r.clientId),
  }));
  const fast = clients.filter((c) => c.mode === "fast");
  const slow = clients.filter((c) => c.mode !== "fast");
  const byTopic: Record<string, LoadResult["correctness"]["all"]> = {};
  for (const topic of topicsOf(config)) {
    byTopic[topic] = sumCounts(clients.map((c) => c.topics[topic]).filter((t) => t !== undefined));
  }
  const closesOf = (list: ClientResult[]) => {
    const out: Record<string, number> = {};
    for (const c of list) if (c.close) out[c.close.code] = (out[c.close.code] ?? 0) + 1;
    return out;
  };
  const connect = fleet.connectStats;
  const sumPub = (f: (r: PublisherReport) => number) =>
    p.publisherReports.reduce((a, r) => a + f(r), 0);
  const samples = [...sampler.samples];
  const delta = (f: (s: ServerSample) => number) =>
    p.baseline && p.windowEnd ? f(p.windowEnd) - f(p.baseline) : undefined;
  const windowSamples = samples.filter((s) =>
    p.baseline && p.windowEnd && s.t > p.baseline.t && s.t <= p.windowEnd.t
  );
  const received = clients.reduce((a, c) => a + c.messages, 0);
  const frames = clients.reduce((a, c) => a + c.frames, 0);
  const byKind: Record<string, LatencySummary> = {};
  for (const [kind, h] of fleet.byKind) byKind[kind] = h.summary();
  const notes: string[] = [];
  const behind = fast.filter((c) => c.counts.undelivered > 0 && !c.close);
  if (behind.length > 0) {
    notes.push(
      `${behind.length} fast client(s) had not received the last messages ${
        config.settleMs / 1000
      } s after the last publish (undelivered: late or lost); latency percentiles cover only the messages that arrived.`,
    );
  }
  if (p.testerCpuPercent !== undefined && p.testerCpuPercent > 80) {
    notes.push(
      `The load tester itself used ${
        Math.round(p.testerCpuPercent)
      } % of a core: latency includes its own queueing; use fewer clients or another machine.`,
    );
  }
  const skipped = sumPub((r) => r.skipped);
  if (skipped > 0) {
    notes.push(
      `${skipped} publishes were not sent because ${config.maxInFlight} were already in flight per publisher: the server answered slower than the offered rate.`,
    );
  }
  const failed = sumPub((r) => r.failed);
  if (failed > 0) {
    const first = p.publisherReports.find((r) => r.firstFailure)?.firstFailure;
    notes.push(
      `${failed} publishes failed (first: ${first}); with auth on, pass --token or --header 'Authorization: Bearer …'.`,
    );
  }
  if (!p.baseline) notes.push(`Server metrics unavailable: ${sampler.error ?? "no sample"}.`);

  return {
    scenario: p.options.scenario,
    config: redactedConfig(config),
    target: {
      url: [config.url, ...config.alsoUrls].join(" + "),
      spawned: p.options.spawned !== undefined,
      serverFlags: p.options.spawned?.flags ?? [],
      mode: p.info.mode,
      engine: p.info.engine,
      bus: p.info.bus?.name,
    },
    machine: machine(),
    startedAt: p.startedAt,
    measuredSeconds: p.measuredSeconds,
    connect: {
      attempted: connect.attempted,
      connected: connect.times.length,
      failed: connect.failed,
      successRate: connect.attempted > 0 ? (connect.times.length / connect.attempted) * 100 : 100,
      avgMs: spread(connect.times).avg,
      maxMs: spread(connect.times).max,
      firstError: connect.firstError,
    },
    publish: {
      publishers: p.publisherReports.length,
      over: config.publishOver,
      offeredPerSec: config.publishers * config.rate +
        (config.largeBytes > 0 ? config.largeRate : 0),
      sent: sumPub((r) => r.sent),
      accepted: sumPub((r) => r.accepted),
      failed: sumPub((r) => r.failed),
      skipped,
      acceptedPerSec: p.timeline.length > 0
        ? p.timeline.reduce((a, t) => a + t.publishedPerSec, 0) / p.timeline.length
        : 0,
      requestMs: p.requestLatency,
      bytes: sumPub((r) => r.bytes),
    },
    latency: {
      from: config.latencyFrom,
      fast: fleet.fastTotal.summary(),
      slow: fleet.slowTotal.summary(),
      byKind,
      spectrum: SPECTRUM.map((pct) => [pct, fleet.fastTotal.percentile(pct)]),
    },
    throughput: {
      expectedPerClient: p.expected,
      fastPerClient: spread(fast.map((c) => c.msgsPerSec)),
      slowPerClient: spread(slow.map((c) => c.msgsPerSec)),
      totalPerSec: clients.reduce((a, c) => a + c.msgsPerSec, 0),
    },
    correctness: {
      all: sumCounts(clients.map((c) => c.counts)),
      fast: sumCounts(fast.map((c) => c.counts)),
      slow: sumCounts(slow.map((c) => c.counts)),
      byTopic,
    },
    slowClients: {
      count: slow.length,
      mode: slow.length === 0 ? undefined : config.stall ? "stall" : "slow",
      messages: slow.reduce((a, c) => a + c.messages, 0),
      gapped: slow.reduce((a, c) => a + c.counts.gapped, 0),
      closes: closesOf(slow),
      serverDropped: slow.reduce((a, c) => a + (c.server?.dropped ?? 0), 0),
      serverCoalesced: slow.reduce((a, c) => a + (c.server?.coalesced ?? 0), 0),
    },
    closes: closesOf(clients),
    server: {
      available: p.baseline !== undefined,
      error: sampler.error,
      rssStartBytes: p.baseline?.rssBytes,
      rssMaxBytes: samples.length > 0 ? Math.max(...samples.map((s) => s.rssBytes)) : undefined,
      rssEndBytes: p.final?.rssBytes,
      cpuAvgPercent: p.baseline && p.windowEnd && p.windowEnd.t > p.baseline.t
        ? ((p.windowEnd.cpuSeconds - p.baseline.cpuSeconds) / (p.windowEnd.t - p.baseline.t)) * 100
        : undefined,
      cpuMaxPercent: windowSamples.length > 0
        ? Math.max(...windowSamples.map((s) => s.cpuPercent))
        : undefined,
      delivered: delta((s) => s.delivered),
      bytesSent: delta((s) => s.bytesSent),
      dropped: delta((s) => s.dropped),
      coalesced: delta((s) => s.coalesced),
      gapsSent: delta((s) => s.gapsSent),
      disconnects: p.baseline && p.final ? codeDelta(p.baseline, p.final) : undefined,
      samples,
    },
    testerCpuPercent: p.testerCpuPercent,
    wire: {
      receivedBytes: clients.reduce((a, c) => a + c.bytes, 0),
      receivedFrames: frames,
      messagesPerFrame: frames > 0 ? received / frames : 0,
      publishedBytes: sumPub((r) => r.bytes),
    },
    timeline: p.timeline,
    clients,
    capacity: p.capacity,
    notes,
  };
}

function machine(): LoadResult["machine"] {
  return {
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    cpuModel: os.cpus()[0]?.model,
  };
}
