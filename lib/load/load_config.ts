/**
 * What one load run does: who publishes how much of what, who subscribes and
 * how they read, for how long. The CLI, the scenario presets and the demo all
 * build one of these.
 *
 * @module
 */
import type { PayloadKind } from "./payloads.ts";

/** The capacity ramp: add subscribers stage by stage until a threshold breaks. */
export interface RampOptions {
  /** Subscribers added per stage (the first stage has this many). */
  step: number;
  /** Seconds each stage is measured. */
  stageSeconds: number;
  /** Stop adding at this many subscribers. */
  maxClients: number;
  /** A stage whose fast-client p99 exceeds this (ms) breaks the ramp. */
  p99LimitMs: number;
  /** A stage whose clients get less than this share of the expected msgs/s breaks the ramp. */
  minDeliveryRatio: number;
  /** A stage whose new connections fail more often than this (0–1) breaks the ramp. */
  maxConnectFailureRate: number;
}

/** One load run. */
export interface LoadConfig {
  /** Base URL of the server, `http://host:port` (the WebSocket URL is derived). */
  url: string;
  /**
   * More instances of the same cluster (sharing one Redis). Subscribers and
   * publishers are spread round-robin over `url` and these; server figures are
   * summed over all of them.
   */
  alsoUrls: string[];
  /** Publishers (sessions); each publishes `rate` events/s. */
  publishers: number;
  /** Events per second per publisher. */
  rate: number;
  /** `POST /publish` or `publish` frames over a WebSocket. */
  publishOver: "http" | "ws";
  /** Subscribers in total, slow ones included. */
  subscribers: number;
  /** How many of the subscribers are slow (or stalled, with `stall`). */
  slow: number;
  /** Time a slow subscriber spends per message, ms. */
  slowMs: number;
  /** ± random variation of `slowMs`, ms. */
  jitterMs: number;
  /** Slow subscribers stop reading altogether instead. */
  stall: boolean;
  /**
   * `"protocol"`: subscribers offer `floodgate.v1.json` and answer `ping {id}`
   * (as the SDK does); `"plain"`: they offer no subprotocol and send nothing,
   * as a bare `new WebSocket()` does.
   */
  client: "protocol" | "plain";
  /** Topic name (with `topics` > 1, `<topic>-0` … `<topic>-<n-1>`; tab trees go to `<topic>.tabs`). */
  topic: string;
  /** Number of topics; publisher `p` publishes to topic `p % topics`, subscribers take all. */
  topics: number;
  payload: PayloadKind;
  /** For the `pad` payload: approximate `message` frame size in bytes. */
  payloadBytes: number;
  /** Also publish tab-tree states of this many bytes (0: none). */
  largeBytes: number;
  /** Tab-tree states per second, when `largeBytes` > 0. */
  largeRate: number;
  /** Seconds measured, after the warm-up. */
  durationSeconds: number;
  /** Seconds of publishing before measuring. */
  warmupSeconds: number;
  /** Milliseconds between progress samples (and timeline points). */
  sampleMs: number;
  /** After the last publish, how long to wait for deliveries before counting what is missing, ms. */
  settleMs: number;
  /** Connections opened at once. */
  connectConcurrency: number;
  /** Publishes in flight per publisher before it counts itself behind. */
  maxInFlight: number;
  /** Latency from the publisher's clock (`sentAt`, end to end) or the server's `ts`. */
  latencyFrom: "sentAt" | "ts";
  /** Extra HTTP headers for publishing (e.g. Authorization). */
  headers: Record<string, string>;
  /**
   * A token for a server with auth on: WebSocket clients connect with
   * `?token=`, and HTTP publishes send `Authorization: Bearer` unless `headers`
   * has one.
   */
  token: string | undefined;
  /** Ramp subscribers instead of connecting them all at once (the `capacity` scenario). */
  ramp?: RampOptions;
}

/** A config with every default; `url` must still be set. */
export function defaultConfig(): LoadConfig {
  return {
    url: "http://127.0.0.1:8080",
    alsoUrls: [],
    publishers: 1,
    rate: 10,
    publishOver: "http",
    subscribers: 10,
    slow: 0,
    slowMs: 200,
    jitterMs: 0,
    stall: false,
    client: "protocol",
    topic: `load-${crypto.randomUUID().slice(0, 8)}`,
    topics: 1,
    payload: "pad",
    payloadBytes: 200,
    largeBytes: 0,
    largeRate: 1,
    durationSeconds: 10,
    warmupSeconds: 2,
    sampleMs: 1000,
    settleMs: 3000,
    connectConcurrency: 50,
    maxInFlight: 64,
    latencyFrom: "sentAt",
    headers: {},
    token: undefined,
  };
}

/** `ws://host:port/ws` of the server, with the token when there is one. */
export function wsUrlOf(config: LoadConfig, url = config.url): string {
  const base = `${url.replace(/^http/, "ws")}/ws`;
  return config.token ? `${base}?token=${encodeURIComponent(config.token)}` : base;
}

/** Every instance the run targets: `url`, then `alsoUrls`. */
export function instanceUrlsOf(config: LoadConfig): string[] {
  return [config.url, ...config.alsoUrls];
}

/** The headers of HTTP publishes: `headers`, and the token as a bearer unless they name one. */
export function publishHeadersOf(config: LoadConfig): Record<string, string> {
  const named = Object.keys(config.headers).some((h) => h.toLowerCase() === "authorization");
  return config.token && !named
    ? { ...config.headers, Authorization: `Bearer ${config.token}` }
    : config.headers;
}

/** `config` as reports show it: the token and any Authorization header replaced by `***`. */
export function redactedConfig(config: LoadConfig): LoadConfig {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) {
    headers[name] = name.toLowerCase() === "authorization" ? "***" : value;
  }
  return { ...config, headers, token: config.token === undefined ? undefined : "***" };
}

/** The topics the publishers spread over: `topic`, or `<topic>-0` … `<topic>-<n-1>`. */
export function publishTopicsOf(config: LoadConfig): string[] {
  return config.topics <= 1
    ? [config.topic]
    : Array.from({ length: config.topics }, (_, i) => `${config.topic}-${i}`);
}

/**
 * The topic of the large tab-tree states, `<topic>.tabs`: their own, as a
 * terminal app's layout sync is apart from its session updates, so what a
 * large message does to the small ones of other topics shows.
 */
export function treeTopicOf(config: LoadConfig): string {
  return `${config.topic}.tabs`;
}

/** Every topic of a run (each subscriber takes them all). */
export function topicsOf(config: LoadConfig): string[] {
  const topics = publishTopicsOf(config);
  return config.largeBytes > 0 ? [...topics, treeTopicOf(config)] : topics;
}

/** Messages per second each subscriber should receive (it takes every topic). */
export function expectedPerClient(config: LoadConfig): number {
  return config.publishers * config.rate + (config.largeBytes > 0 ? config.largeRate : 0);
}

/**
 * Checks a config and says what to change.
 *
 * @throws {RangeError} naming the flag and the value.
 */
export function validateConfig(config: LoadConfig): void {
  const need = (ok: boolean, message: string) => {
    if (!ok) throw new RangeError(message);
  };
  need(
    /^https?:\/\//.test(config.url),
    `--url must start with http:// or https://, got "${config.url}"`,
  );
  need(
    Number.isInteger(config.publishers) && config.publishers >= 1,
    `--publishers must be an integer ≥ 1, got ${config.publishers}`,
  );
  need(config.rate > 0, `--rate must be > 0 events/s, got ${config.rate}`);
  need(
    Number.isInteger(config.subscribers) && config.subscribers >= 0,
    `--subscribers must be an integer ≥ 0, got ${config.subscribers}`,
  );
  need(
    Number.isInteger(config.slow) && config.slow >= 0 && config.slow <= config.subscribers,
    `--slow must be between 0 and --subscribers (${config.subscribers}), got ${config.slow}`,
  );
  need(config.slowMs >= 0 && config.jitterMs >= 0, `--slow-ms and --jitter-ms must be ≥ 0`);
  need(
    Number.isInteger(config.topics) && config.topics >= 1,
    `--topics must be an integer ≥ 1, got ${config.topics}`,
  );
  need(config.payloadBytes >= 0, `--payload-bytes must be ≥ 0, got ${config.payloadBytes}`);
  need(
    config.largeBytes === 0 || config.largeBytes >= 1024,
    `--large-bytes must be 0 or ≥ 1KiB, got ${config.largeBytes}`,
  );
  need(config.largeRate > 0, `--large-rate must be > 0, got ${config.largeRate}`);
  need(
    config.durationSeconds > 0 && config.durationSeconds <= 3600,
    `--duration must be > 0 and ≤ 3600 seconds, got ${config.durationSeconds}`,
  );
  need(config.warmupSeconds >= 0, `--warmup must be ≥ 0 seconds, got ${config.warmupSeconds}`);
  need(config.sampleMs >= 100, `the sample interval must be ≥ 100 ms, got ${config.sampleMs}`);
  need(
    config.connectConcurrency >= 1,
    `--connect-concurrency must be ≥ 1, got ${config.connectConcurrency}`,
  );
  if (config.ramp) {
    const r = config.ramp;
    need(
      r.step >= 1 && r.maxClients >= r.step,
      `the ramp needs step ≥ 1 and max clients ≥ step, got ${r.step} and ${r.maxClients}`,
    );
    need(r.stageSeconds >= 1, `--stage must be ≥ 1 second, got ${r.stageSeconds}`);
  }
}
