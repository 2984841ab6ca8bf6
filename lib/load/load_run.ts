/**
 * Runs one load test against a Floodgate server: connects the subscribers,
 * starts open-loop publishers, warms up, measures for the duration (sampling
 * latency, throughput and the server's `/metrics` every interval), stops the
 * publishers, lets deliveries settle, and checks every client's seqs against
 * the publishers' last ones.
 *
 * @module
 */
import os from "node:os";
import process from "node:process";
import { CapacityRamp } from "./capacity_ramp.ts";
import { LatencyHistogram, type LatencySummary, wallClockMs } from "./latency_histogram.ts";
import { expectedPerClient, type LoadConfig, topicsOf } from "./load_config.ts";
import {
  type ClientResult,
  type LoadResult,
  spread,
  sumCounts,
  type TimelinePoint,
} from "./load_result.ts";
import { itemMaker, stampTree, tabTree } from "./payloads.ts";
import { WsPublishTransport } from "./publish_transport.ts";
import { Publisher, type PublisherReport } from "./publisher.ts";
import { type ServerSample, ServerSampler } from "./server_sampler.ts";
import { type FleetReport, SubscriberFleet } from "./subscriber_fleet.ts";
import type { ReadMode } from "./subscriber.ts";

/** Where a run is. */
export type RunPhase = "connecting" | "warmup" | "measuring" | "settling";

/** What the progress line shows. */
export interface RunProgress {
  phase: RunPhase;
  /** Seconds into the phase, and the phase's planned length (0 when open). */
  elapsed: number;
  planned: number;
  subscribers: number;
  /** The last timeline point, once measuring. */
  point: TimelinePoint | undefined;
}

/** Options of {@linkcode runLoad} beyond the config. */
export interface RunOptions {
  /** Scenario name, for the report. */
  scenario?: string;
  /** Whether the load tester started the server, and with which flags. */
  spawned?: { flags: string[] };
  /** Called every sample interval and at each phase change. */
  onProgress?: (progress: RunProgress) => void;
  /** Ends the measured window early (e.g. on Ctrl-C); the run still reports. */
  signal?: AbortSignal;
}

const SPECTRUM = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

interface Health {
  mode?: string;
  engine?: string;
  bus?: { name?: string };
}

async function health(url: string): Promise<Health> {
  try {
    const res = await fetch(`${url}/healthz`);
    return await res.json();
  } catch (err) {
    throw new Error(
      `Cannot reach a Floodgate server at ${url} (${
        (err as Error).message
      }); start one (deno task start) or pass --spawn`,
    );
  }
}

function modeOf(config: LoadConfig): (i: number) => ReadMode {
  return (i) =>
    i >= config.slow
      ? { kind: "fast" }
      : config.stall
      ? { kind: "stall" }
      : { kind: "slow", slowMs: config.slowMs, jitterMs: config.jitterMs };
}

async function startPublishers(config: LoadConfig, topics: string[], wsUrl: string) {
  const transport = () =>
    config.publishOver === "ws" ? WsPublishTransport.connect(wsUrl) : Promise.resolve(undefined);
  const common = { url: config.url, maxInFlight: config.maxInFlight, headers: config.headers };
  const publishers: Publisher[] = [];
  for (let p = 0; p < config.publishers; p++) {
    const topic = topics[p % topics.length];
    publishers.push(
      new Publisher({
        ...common,
        rate: config.rate,
        transport: await transport(),
        makeItem: itemMaker({
          payload: config.payload,
          bytes: config.payloadBytes,
          topic,
          publisher: p,
        }),
      }),
    );
  }
  if (config.largeBytes > 0) {
    const tree = tabTree(config.largeBytes);
    publishers.push(
      new Publisher({
        ...common,
        rate: config.largeRate,
        transport: await transport(),
        makeItem: (i) => ({
          topic: topics[i % topics.length],
          key: "layout",
          data: stampTree(tree, i),
        }),
      }),
    );
  }
  // Spread the session publishers over one interval, as independent sources are, instead of
  // having them all publish at the same instant.
  const spacing = 1000 / config.rate / config.publishers;
  for (const [i, p] of publishers.entries()) {
    if (i > 0 && i < config.publishers) await sleep(spacing);
    p.start();
  }
  return publishers;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** CPU seconds this process used (user + system). */
function testerCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Runs the load test `config` describes and reports what it measured.
 *
 * @throws {Error} when the server cannot be reached or no subscriber connects.
 *
 * @example
 * ```ts ignore
 * const result = await runLoad({ ...defaultConfig(), url: "http://127.0.0.1:8080" });
 * console.log(result.latency.fast.p99, result.correctness.all.missing);
 * ```
 */
export async function runLoad(config: LoadConfig, options: RunOptions = {}): Promise<LoadResult> {
  const startedAt = new Date().toISOString();
  const info = await health(config.url);
  const topics = topicsOf(config);
  const wsUrl = `${config.url.replace(/^http/, "ws")}/ws`;
  const expected = expectedPerClient(config);
  const sampler = new ServerSampler(config.url);
  const fleet = new SubscriberFleet({
    wsUrl,
    topics,
    modeOf: modeOf(config),
    latencyFrom: config.latencyFrom,
    connectConcurrency: config.connectConcurrency,
  });
  const progress = (phase: RunPhase, elapsed: number, planned: number, point?: TimelinePoint) =>
    options.onProgress?.({ phase, elapsed, planned, subscribers: fleet.size, point });

  // Connect.
  progress("connecting", 0, 0);
  const ramp = config.ramp ? new CapacityRamp(config.ramp, expected) : undefined;
  const initial = config.ramp ? config.ramp.step : config.subscribers;
  const firstConnect = await fleet.add(initial);
  if (initial > 0 && fleet.size === 0) {
    throw new Error(
      `No subscriber could connect to ${wsUrl}: ${
        fleet.connectStats.firstError ?? "unknown error"
      }`,
    );
  }

  // Publish and warm up.
  const publishers = await startPublishers(config, topics, wsUrl);
  const warmupStart = performance.now();
  while (performance.now() - warmupStart < config.warmupSeconds * 1000) {
    if (options.signal?.aborted) break;
    const left = config.warmupSeconds * 1000 - (performance.now() - warmupStart);
    await sleep(Math.min(config.sampleMs, left), options.signal);
    progress("warmup", (performance.now() - warmupStart) / 1000, config.warmupSeconds);
  }

  // Measure.
  const slowPresent = config.slow > 0;
  const accepted = () => publishers.reduce((a, p) => a + p.accepted, 0);
  fleet.startMeasuring(wallClockMs());
  const baseline = await sampler.sample();
  const cpu0 = testerCpu();
  const measureStart = performance.now();
  const timeline: TimelinePoint[] = [];
  let last = { at: measureStart, accepted: accepted(), counts: fleet.messageCounts() };
  let lastServer: ServerSample | undefined = baseline;
  let stage = {
    start: measureStart,
    hist: new LatencyHistogram(),
    fast: last.counts.fast,
    cpu0: baseline,
    connect: firstConnect,
  };

  const tick = async (): Promise<TimelinePoint> => {
    const now = performance.now();
    const dt = Math.max(0.001, (now - last.at) / 1000);
    const window = fleet.takeWindow(stage.hist);
    const counts = fleet.messageCounts();
    const acc = accepted();
    const sample = await sampler.sample();
    if (slowPresent) await sampler.sampleClients();
    if (sample) lastServer = sample;
    const fastCount = fleet.fastCount;
    const point: TimelinePoint = {
      t: (now - measureStart) / 1000,
      subscribers: fleet.size,
      publishedPerSec: (acc - last.accepted) / dt,
      receivedPerSec: (counts.total - last.counts.total) / dt,
      perClientPerSec: fastCount > 0 ? (counts.fast - last.counts.fast) / dt / fastCount : 0,
      p50: window.fast.p50,
      p99: window.fast.p99,
      max: window.fast.max,
      slowP99: window.slow.p99,
      rssBytes: sample?.rssBytes,
      cpuPercent: sample?.cpuPercent,
    };
    last = { at: now, accepted: acc, counts };
    timeline.push(point);
    return point;
  };

  const endAt = measureStart + config.durationSeconds * 1000;
  let nextTick = measureStart + config.sampleMs;
  while (performance.now() < endAt && !options.signal?.aborted && !ramp?.done) {
    await sleep(Math.min(nextTick, endAt) - performance.now(), options.signal);
    if (options.signal?.aborted) break;
    const point = await tick();
    nextTick += config.sampleMs;
    progress("measuring", point.t, config.durationSeconds, point);
    if (ramp && performance.now() - stage.start >= config.ramp!.stageSeconds * 1000) {
      const seconds = (performance.now() - stage.start) / 1000;
      const summary = stage.hist.summary();
      const fastCount = Math.max(1, fleet.fastCount);
      ramp.judge({
        clients: fleet.size,
        p50: summary.p50,
        p99: summary.p99,
        max: summary.max,
        perClientPerSec: (last.counts.fast - stage.fast) / seconds / fastCount,
        connectAttempted: stage.connect.attempted,
        connectFailed: stage.connect.failed,
        closed: fleet.closedFast(),
        cpuPercent: lastServer && stage.cpu0
          ? ((lastServer.cpuSeconds - stage.cpu0.cpuSeconds) / (lastServer.t - stage.cpu0.t)) * 100
          : undefined,
        rssBytes: lastServer?.rssBytes,
      });
      if (!ramp.done && performance.now() < endAt) {
        progress("connecting", point.t, config.durationSeconds, point);
        const connect = await fleet.add(ramp.nextStep(fleet.size));
        fleet.takeWindow(); // connecting time is not part of the next stage
        last = { at: performance.now(), accepted: accepted(), counts: fleet.messageCounts() };
        nextTick = performance.now() + config.sampleMs;
        stage = {
          start: performance.now(),
          hist: new LatencyHistogram(),
          fast: last.counts.fast,
          cpu0: lastServer,
          connect,
        };
      }
    }
  }
  fleet.stopMeasuring();
  const measuredSeconds = (performance.now() - measureStart) / 1000;
  const cpu1 = testerCpu();
  const windowEnd = lastServer;

  // Stop, settle, check.
  progress("settling", 0, config.settleMs / 1000);
  const publisherReports = await Promise.all(publishers.map((p) => p.stop()));
  const lastSeqs: Record<string, number> = {};
  for (const r of publisherReports) {
    for (const [topic, seq] of Object.entries(r.lastSeqs)) {
      lastSeqs[topic] = Math.max(lastSeqs[topic] ?? 0, seq);
    }
  }
  await fleet.settle(lastSeqs, config.settleMs);
  fleet.takeWindow();
  await sampler.sampleClients();
  const final = await sampler.sample();
  const reports = await fleet.finish(lastSeqs);
  await fleet.disconnect();

  return buildResult({
    config,
    options,
    info,
    startedAt,
    measuredSeconds,
    expected,
    fleet,
    reports,
    publisherReports,
    sampler,
    baseline,
    windowEnd,
    final,
    timeline,
    testerCpuPercent: ((cpu1 - cpu0) / measuredSeconds) * 100,
    capacity: ramp?.result(),
  });
}

interface Parts {
  config: LoadConfig;
  options: RunOptions;
  info: Health;
  startedAt: string;
  measuredSeconds: number;
  expected: number;
  fleet: SubscriberFleet;
  reports: FleetReport[];
  publisherReports: PublisherReport[];
  sampler: ServerSampler;
  baseline: ServerSample | undefined;
  windowEnd: ServerSample | undefined;
  final: ServerSample | undefined;
  timeline: TimelinePoint[];
  testerCpuPercent: number | undefined;
  capacity: LoadResult["capacity"];
}

function buildResult(p: Parts): LoadResult {
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
  const requestMs = p.publisherReports.map((r) => r.requestMs).sort((a, b) => b.p99 - a.p99)[0];
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
      } s after the last publish (undelivered: late or lost).`,
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
  if (!p.baseline) notes.push(`Server metrics unavailable: ${sampler.error ?? "no sample"}.`);

  return {
    scenario: p.options.scenario,
    config,
    target: {
      url: config.url,
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
      requestMs,
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
      slowDisconnects: delta((s) => s.slowDisconnects),
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
