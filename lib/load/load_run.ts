/**
 * Runs one load test against a Floodgate server: connects the subscribers,
 * starts open-loop publishers, warms up, measures for the duration (sampling
 * latency, throughput and the server's `/metrics` every interval), stops the
 * publishers, lets deliveries settle, and checks every client's seqs against
 * the publishers' last ones.
 *
 * @module
 */
import process from "node:process";
import { httpGet } from "./http_get.ts";
import { CapacityRamp, type StageMeasurement } from "./capacity_ramp.ts";
import { LatencyHistogram, wallClockMs } from "./latency_histogram.ts";
import {
  expectedPerClient,
  instanceUrlsOf,
  type LoadConfig,
  publishHeadersOf,
  publishTopicsOf,
  topicsOf,
  treeTopicOf,
  wsUrlOf,
} from "./load_config.ts";
import type { LoadResult, TimelinePoint } from "./load_result.ts";
import { itemMaker, stampTree, tabTree } from "./payloads.ts";
import { WsPublishTransport } from "./publish_transport.ts";
import { Publisher } from "./publisher.ts";
import { type ServerSample, ServerSampler } from "./server_sampler.ts";
import { SubscriberFleet } from "./subscriber_fleet.ts";
import type { ReadMode } from "./subscriber.ts";
import { summarizeRun } from "./summarize_run.ts";

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

interface Health {
  mode?: string;
  engine?: string;
  bus?: { name?: string };
}

async function health(url: string): Promise<Health> {
  let answer: { status: number; text: string };
  try {
    answer = await httpGet(`${url}/healthz`);
  } catch (err) {
    throw new Error(
      `Cannot reach a Floodgate server: ${
        (err as Error).message
      }; start one (deno task start) or pass --spawn`,
    );
  }
  try {
    return JSON.parse(answer.text);
  } catch {
    throw new Error(
      `${url}/healthz answered ${answer.status} without JSON: is it a Floodgate server?`,
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

async function startPublishers(
  config: LoadConfig,
  topics: string[],
  requestLatency: LatencyHistogram,
) {
  // Publisher p talks to instance p (round-robin), over HTTP or its WebSocket.
  const urls = instanceUrlsOf(config);
  const target = (p: number) => {
    const url = urls[p % urls.length];
    return {
      url,
      transport: config.publishOver === "ws"
        ? WsPublishTransport.connect(wsUrlOf(config, url))
        : Promise.resolve(undefined),
    };
  };
  const common = {
    maxInFlight: config.maxInFlight,
    headers: publishHeadersOf(config),
    requestLatency,
  };
  const publishers: Publisher[] = [];
  for (let p = 0; p < config.publishers; p++) {
    const topic = topics[p % topics.length];
    const { url, transport } = target(p);
    publishers.push(
      new Publisher({
        ...common,
        url,
        rate: config.rate,
        transport: await transport,
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
    const treeTopic = treeTopicOf(config);
    const { url, transport } = target(config.publishers);
    publishers.push(
      new Publisher({
        ...common,
        url,
        rate: config.largeRate,
        transport: await transport,
        makeItem: (i) => ({ topic: treeTopic, key: "layout", data: stampTree(tree, i) }),
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

/** One stage of the capacity ramp while it is measured. */
class Stage {
  /** Fast clients' latency during the stage. */
  readonly hist = new LatencyHistogram();

  constructor(
    readonly start: number,
    readonly fastAtStart: number,
    readonly serverAtStart: ServerSample | undefined,
    readonly connect: { attempted: number; failed: number },
  ) {}

  /** What the stage measured, up to `fastNow` messages and the `server` sample. */
  measure(
    fleet: SubscriberFleet,
    fastNow: number,
    server: ServerSample | undefined,
  ): StageMeasurement {
    const seconds = (performance.now() - this.start) / 1000;
    const summary = this.hist.summary();
    const s0 = this.serverAtStart;
    return {
      clients: fleet.size,
      p50: summary.p50,
      p99: summary.p99,
      max: summary.max,
      perClientPerSec: (fastNow - this.fastAtStart) / seconds / Math.max(1, fleet.fastCount),
      connectAttempted: this.connect.attempted,
      connectFailed: this.connect.failed,
      closed: fleet.closedFast(),
      cpuPercent: server && s0 && server.t > s0.t
        ? ((server.cpuSeconds - s0.cpuSeconds) / (server.t - s0.t)) * 100
        : undefined,
      rssBytes: server?.rssBytes,
    };
  }
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
  const urls = instanceUrlsOf(config);
  const info = await health(config.url);
  for (const url of config.alsoUrls) await health(url);
  const topics = topicsOf(config);
  const expected = expectedPerClient(config);
  const sampler = new ServerSampler(urls);
  const fleet = new SubscriberFleet({
    wsUrls: urls.map((url) => wsUrlOf(config, url)),
    topics,
    modeOf: modeOf(config),
    latencyFrom: config.latencyFrom,
    connectConcurrency: config.connectConcurrency,
    plain: config.client === "plain",
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
      `No subscriber could connect to ${wsUrlOf({ ...config, token: undefined })}: ${
        fleet.connectStats.firstError ?? "unknown error"
      }`,
    );
  }

  // Publish and warm up.
  const requestLatency = new LatencyHistogram();
  const publishers = await startPublishers(config, publishTopicsOf(config), requestLatency);
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
  let stage = new Stage(measureStart, last.counts.fast, baseline, firstConnect);

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
      measured: window.fast.count,
      slowP99: window.slow.p99,
      slowMeasured: window.slow.count,
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
      ramp.judge(stage.measure(fleet, last.counts.fast, lastServer));
      if (!ramp.done && performance.now() < endAt) {
        progress("connecting", point.t, config.durationSeconds, point);
        const connect = await fleet.add(ramp.nextStep(fleet.size));
        fleet.takeWindow(); // connecting time is not part of the next stage
        last = { at: performance.now(), accepted: accepted(), counts: fleet.messageCounts() };
        nextTick = performance.now() + config.sampleMs;
        stage = new Stage(performance.now(), last.counts.fast, lastServer, connect);
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

  return summarizeRun({
    config,
    options,
    info,
    startedAt,
    measuredSeconds,
    expected,
    fleet,
    reports,
    publisherReports,
    requestLatency: requestLatency.summary(),
    sampler,
    baseline,
    windowEnd,
    final,
    timeline,
    testerCpuPercent: ((cpu1 - cpu0) / measuredSeconds) * 100,
    capacity: ramp?.result(),
  });
}
