/**
 * Every setting in one table: its flag, its `FLOODGATE_*` variable, its default
 * and its meaning. `--help`, the README's table and the parser all read it.
 * Flags win over variables, variables over defaults.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { MIN_CHUNK_BYTES } from "../protocol/chunking.ts";
import { TrustedProxies } from "../http/client_address.ts";

/** The server's settings, resolved. */
export interface Settings {
  port: number;
  hostname: string;
  mode: "queue" | "naive";
  flushMs: number;
  maxQueueMessages: number;
  maxQueueBytes: number;
  slowTimeoutMs: number;
  dropLimit: number;
  dropWindowMs: number;
  highWaterBytes: number;
  lowWaterBytes: number;
  maxInflightBytes: number;
  maxLagMs: number;
  maxFrameBytes: number;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  handshakeTimeoutMs: number;
  maxInboundBytes: number;
  maxBodyBytes: number;
  chunkBytes: number;
  maxMessageBytes: number;
  maxReassemblyBytes: number;
  reassemblyTimeoutMs: number;
  engine: "ws" | "deno";
  compression: "off" | "deflate" | "deflate-per-socket";
  compressionThreshold: number;
  compressionLevel: number;
  compressionBudget: number;
  maxTopicsPerClient: number;
  historySize: number;
  historyBytes: number;
  historyTtlMs: number;
  maxTopics: number;
  maxKeysPerTopic: number;
  maxConnections: number;
  memoryBudget: number;
  maxInboundRate: number;
  publishRate: number;
  publishToken: string;
  jwtSecret: string;
  allowedOrigins: string;
  adminToken: string;
  trustedProxies: string;
  redisUrl: string;
  redisPrefix: string;
  redisConnectTimeoutMs: number;
  redisCommandTimeoutMs: number;
  redisMaxPendingPublishes: number;
  slowFanoutMs: number;
  shutdownTimeoutMs: number;
  statsIntervalMs: number;
  metricsIntervalMs: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
}

type Kind = "int" | "bytes" | "duration" | "string" | { oneOf: readonly string[] };

interface SettingSpec {
  key: keyof Settings;
  flag: string;
  kind: Kind;
  default: string | number;
  doc: string;
  /** Least value allowed (numbers: bytes, ms or a count). */
  min?: number;
  /** Greatest value allowed; durations are also capped at {@linkcode MAX_DURATION_MS}. */
  max?: number;
  /** 0 is allowed below `min`, meaning "off". */
  zeroIsOff?: boolean;
}

/** The longest duration a timer can wait (2³¹ − 1 ms, about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** The settings table. */
export const SETTINGS: readonly SettingSpec[] = [
  {
    key: "port",
    flag: "port",
    kind: "int",
    default: 8080,
    doc: "TCP port to listen on (also read from PORT)",
    min: 0,
    max: 65535,
  },
  {
    key: "hostname",
    flag: "hostname",
    kind: "string",
    default: "0.0.0.0",
    doc: "Address to listen on",
  },
  {
    key: "mode",
    flag: "mode",
    kind: { oneOf: ["queue", "naive"] },
    default: "queue",
    doc: "queue: per-client queues; naive: sequential awaited sends, for comparison only",
  },
  {
    key: "flushMs",
    flag: "flush-ms",
    kind: "duration",
    default: 0,
    doc:
      "0 sends at once (one frame per client per event-loop turn); N sends one batch per client every N ms, latest value per key",
    min: 0,
    max: 60_000,
  },
  {
    key: "maxQueueMessages",
    flag: "max-queue-messages",
    kind: "int",
    default: 1024,
    doc: "Messages a client queue holds before coalescing, then dropping oldest",
    min: 1,
    max: 10_000_000,
  },
  {
    key: "maxQueueBytes",
    flag: "max-queue-bytes",
    kind: "bytes",
    default: "8MiB",
    doc: "Bytes a client queue holds before coalescing, then dropping oldest",
    min: 1024,
  },
  {
    key: "slowTimeoutMs",
    flag: "slow-timeout",
    kind: "duration",
    default: "10s",
    doc: "A client whose queue stays full this long is closed with 4008",
    min: 1,
  },
  {
    key: "dropLimit",
    flag: "drop-limit",
    kind: "int",
    default: 10000,
    doc: "A client dropping more messages than this within --drop-window is closed with 4008",
    min: 1,
  },
  {
    key: "dropWindowMs",
    flag: "drop-window",
    kind: "duration",
    default: "10s",
    doc: "Window for --drop-limit",
    min: 1,
  },
  {
    key: "highWaterBytes",
    flag: "high-water-bytes",
    kind: "bytes",
    default: "1MiB",
    doc: "Stop writing to a socket whose engine holds more unsent bytes than this",
    min: 1024,
  },
  {
    key: "lowWaterBytes",
    flag: "low-water-bytes",
    kind: "bytes",
    default: "256KiB",
    doc: "Resume writing once the engine holds at most this many unsent bytes",
    min: 0,
  },
  {
    key: "maxInflightBytes",
    flag: "max-inflight-bytes",
    kind: "bytes",
    default: "1MiB",
    doc:
      "Most sent bytes unconfirmed by the client's pong; a slow reader gets less: what it reads in half of --max-lag",
    min: 4096,
  },
  {
    key: "maxLagMs",
    flag: "max-lag",
    kind: "duration",
    default: "3s",
    doc:
      "How far behind a client may read: past it, its queue keeps the latest message per key and, while it reads, drops unkeyed messages older than half of this (with gaps)",
    min: 10,
  },
  {
    key: "maxFrameBytes",
    flag: "max-frame-bytes",
    kind: "bytes",
    default: "64KiB",
    doc: "Largest batch frame built from queued messages",
    min: 1024,
  },
  {
    key: "heartbeatMs",
    flag: "heartbeat",
    kind: "duration",
    default: "15s",
    doc: "The server pings each client this often",
    min: 100,
  },
  {
    key: "heartbeatTimeoutMs",
    flag: "heartbeat-timeout",
    kind: "duration",
    default: "10s",
    doc: "A ping unanswered this long closes the connection with 4009",
    min: 100,
  },
  {
    key: "handshakeTimeoutMs",
    flag: "handshake-timeout",
    kind: "duration",
    default: "10s",
    doc:
      "A connection that has not sent a whole HTTP or upgrade request this long is answered 408 and closed (ws engine)",
    min: 100,
  },
  {
    key: "maxInboundBytes",
    flag: "max-inbound-bytes",
    kind: "bytes",
    default: "1MiB",
    doc: "Largest WebSocket frame a client may send; larger closes with 1009",
    min: 1024,
  },
  {
    key: "maxBodyBytes",
    flag: "max-body-bytes",
    kind: "bytes",
    default: "1MiB",
    doc: "Largest POST /publish body; larger gets 413",
    min: 1024,
  },
  {
    key: "chunkBytes",
    flag: "chunk-bytes",
    kind: "bytes",
    default: "64KiB",
    doc:
      "Frames larger than this go out as chunked.start/data/end frames of at most this size, other traffic in between; 0 sends frames whole",
    min: MIN_CHUNK_BYTES,
    zeroIsOff: true,
  },
  {
    key: "maxMessageBytes",
    flag: "max-message-bytes",
    kind: "bytes",
    default: "4MiB",
    doc:
      "Largest message a client may send in chunked frames, and most unfinished chunked bytes per connection",
    min: 1024,
  },
  {
    key: "maxReassemblyBytes",
    flag: "max-reassembly-bytes",
    kind: "bytes",
    default: "64MiB",
    doc: "Most bytes of unfinished chunked messages held for all connections together",
    min: 0,
  },
  {
    key: "reassemblyTimeoutMs",
    flag: "reassembly-timeout",
    kind: "duration",
    default: "30s",
    doc: "A chunked message from a client not finished within this is dropped with an error",
    min: 1,
  },
  {
    key: "engine",
    flag: "engine",
    kind: { oneOf: ["ws", "deno"] },
    default: "ws",
    doc:
      "ws: npm:ws on node:http (WebSocket ping/pong: flow control for plain clients; permessage-deflate); deno: Deno.upgradeWebSocket on Deno.serve (no ping/pong, no compression)",
  },
  {
    key: "compression",
    flag: "compression",
    kind: { oneOf: ["off", "deflate", "deflate-per-socket"] },
    default: "off",
    doc:
      "deflate: negotiate permessage-deflate, each frame compressed once for all clients; deflate-per-socket: ws compressing per client, for comparison (both need --engine ws)",
  },
  {
    key: "compressionThreshold",
    flag: "compression-threshold",
    kind: "bytes",
    default: "1KiB",
    doc: "Frames smaller than this are sent uncompressed",
    min: 0,
  },
  {
    key: "compressionLevel",
    flag: "compression-level",
    kind: "int",
    default: 6,
    doc: "zlib level for permessage-deflate, 1 (fastest) to 9 (smallest)",
    min: 1,
    max: 9,
  },
  {
    key: "compressionBudget",
    flag: "compression-budget",
    kind: "bytes",
    default: "64MiB",
    doc:
      "Most bytes compressed per second; past it frames go out uncompressed (bounds compression CPU)",
    min: 0,
  },
  {
    key: "maxTopicsPerClient",
    flag: "max-topics-per-client",
    kind: "int",
    default: 1000,
    doc: "Most topics one connection may subscribe to",
    min: 1,
  },
  {
    key: "historySize",
    flag: "history-size",
    kind: "int",
    default: 1000,
    doc: "Messages kept per topic for resume",
    min: 1,
  },
  {
    key: "historyBytes",
    flag: "history-bytes",
    kind: "bytes",
    default: "4MiB",
    doc: "Bytes of message data kept per topic for resume",
    min: 1024,
  },
  {
    key: "historyTtlMs",
    flag: "history-ttl",
    kind: "duration",
    default: "10m",
    doc: "Messages older than this leave the history",
    min: 1000,
  },
  {
    key: "maxTopics",
    flag: "max-topics",
    kind: "int",
    default: 100000,
    doc: "Most topics the server holds; publishing to one more is refused",
    min: 1,
  },
  {
    key: "maxKeysPerTopic",
    flag: "max-keys-per-topic",
    kind: "int",
    default: 100000,
    doc: "Most keys in one topic's state; a publish with one more key is refused",
    min: 1,
  },
  {
    key: "maxConnections",
    flag: "max-connections",
    kind: "int",
    default: 10000,
    doc: "Most WebSocket connections; more get 503",
    min: 1,
  },
  {
    key: "memoryBudget",
    flag: "memory-budget",
    kind: "bytes",
    default: "512MiB",
    doc:
      "Most bytes held for clients and topics (queues, history, state, reassembly, state reads); past 90 % the largest queues are shed with gaps, past 100 % connections and publishes get 503 overloaded",
    min: 16 * 1024 * 1024,
  },
  {
    key: "maxInboundRate",
    flag: "max-inbound-rate",
    kind: "int",
    default: 200,
    doc:
      "Frames per second one connection may send (bursts up to twice that); more closes with 1008; 0 = no limit",
    min: 0,
  },
  {
    key: "publishRate",
    flag: "publish-rate",
    kind: "int",
    default: 0,
    doc:
      "Publishes per second per token (per address when open), bursts up to twice that; more gets 429; 0 = no limit",
    min: 0,
  },
  {
    key: "publishToken",
    flag: "publish-token",
    kind: "string",
    default: "",
    doc:
      "When set, POST /publish needs Authorization: Bearer <token> (or a JWT allowing the topic)",
  },
  {
    key: "jwtSecret",
    flag: "jwt-secret",
    kind: "string",
    default: "",
    doc:
      "When set, WebSocket clients need an HS256 JWT (?token= or the floodgate.token.<jwt> subprotocol)",
  },
  {
    key: "allowedOrigins",
    flag: "allowed-origins",
    kind: "string",
    default: "",
    doc:
      "Comma-separated Origins allowed to open WebSockets (e.g. https://app.example.com); empty = any",
  },
  {
    key: "adminToken",
    flag: "admin-token",
    kind: "string",
    default: "",
    doc:
      "Bearer token for /stats and /metrics (also ?token=); with no auth configured they are open (a warning is logged)",
  },
  {
    key: "trustedProxies",
    flag: "trusted-proxies",
    kind: "string",
    default: "",
    doc:
      "Comma-separated proxy addresses or CIDRs (10.0.0.0/8, ::1) whose X-Forwarded-For names the client for per-address limits; empty = none",
  },
  {
    key: "redisUrl",
    flag: "redis-url",
    kind: "string",
    default: "",
    doc:
      "redis://host:port to share seqs, state and history with other instances; empty = in memory",
  },
  {
    key: "redisPrefix",
    flag: "redis-prefix",
    kind: "string",
    default: "floodgate",
    doc: "Prefix of Floodgate's Redis keys and channels (one per cluster)",
  },
  {
    key: "redisConnectTimeoutMs",
    flag: "redis-connect-timeout",
    kind: "duration",
    default: "10s",
    doc:
      "At startup, how long to keep retrying an unreachable Redis (a log line per attempt) before exiting 2",
    min: 100,
  },
  {
    key: "redisCommandTimeoutMs",
    flag: "redis-command-timeout",
    kind: "duration",
    default: "2s",
    doc:
      "A Redis command unanswered this long fails (publish gets 503 unavailable) and /healthz turns degraded",
    min: 10,
  },
  {
    key: "redisMaxPendingPublishes",
    flag: "redis-max-pending-publishes",
    kind: "int",
    default: 1000,
    doc:
      "Most publishes waiting on Redis at once; more get 503 unavailable at once (a hung Redis cannot pile them up)",
    min: 1,
  },
  {
    key: "slowFanoutMs",
    flag: "slow-fanout",
    kind: "duration",
    default: "100ms",
    doc: "A publish whose fan-out takes longer is logged as a warning",
    min: 0,
  },
  {
    key: "shutdownTimeoutMs",
    flag: "shutdown-timeout",
    kind: "duration",
    default: "5s",
    doc: "On SIGINT/SIGTERM, how long to flush queues before closing with 1001",
    min: 0,
  },
  {
    key: "statsIntervalMs",
    flag: "stats-interval",
    kind: "duration",
    default: "5s",
    doc: "Interval of the summary log line; 0 turns it off",
    min: 100,
    zeroIsOff: true,
  },
  {
    key: "metricsIntervalMs",
    flag: "metrics-interval",
    kind: "duration",
    default: "1s",
    doc:
      "Interval of the server's own metrics on the $metrics topic (for the dashboard); 0 turns it off",
    min: 100,
    zeroIsOff: true,
  },
  {
    key: "logLevel",
    flag: "log-level",
    kind: { oneOf: ["debug", "info", "warn", "error", "silent"] },
    default: "info",
    doc: "Least severe log level written",
  },
];

/** The `FLOODGATE_*` variable of a flag. */
export function envName(flag: string): string {
  return `FLOODGATE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1000,
  kib: 1024,
  k: 1024,
  mb: 1e6,
  mib: 1 << 20,
  m: 1 << 20,
  gb: 1e9,
  gib: 1 << 30,
  g: 1 << 30,
};
const DURATION_UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function withUnit(text: string, units: Record<string, number>): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = units[m[2].toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/**
 * Parses a size with an optional unit (`"424KB"`, `"64KiB"`, `"8MiB"`, `"1000"`);
 * undefined when it is not one.
 *
 * @example
 * ```ts
 * import { parseByteSize } from "./settings.ts";
 * parseByteSize("64KiB"); // 65536
 * ```
 */
export function parseByteSize(text: string): number | undefined {
  return withUnit(text, BYTE_UNITS);
}

function convert(spec: SettingSpec, raw: string | number, source: string): string | number {
  const value = parseValue(spec, raw, source);
  return typeof value === "number" ? checkBounds(spec, value, String(raw), source) : value;
}

/** Checks a number against the row's bounds. */
function checkBounds(spec: SettingSpec, value: number, text: string, source: string): number {
  if (value === 0 && spec.zeroIsOff) return value;
  const unit = spec.kind === "bytes" ? " bytes" : spec.kind === "duration" ? " ms" : "";
  const max = spec.kind === "duration" ? Math.min(spec.max ?? Infinity, MAX_DURATION_MS) : spec.max;
  const off = spec.zeroIsOff ? "0 (off) or " : "";
  if (spec.min !== undefined && value < spec.min) {
    throw new RangeError(
      `Invalid value "${text}" for ${source}: expected ${off}at least ${spec.min}${unit}`,
    );
  }
  if (max !== undefined && value > max) {
    throw new RangeError(`Invalid value "${text}" for ${source}: expected at most ${max}${unit}`);
  }
  return value;
}

function parseValue(spec: SettingSpec, raw: string | number, source: string): string | number {
  const text = String(raw);
  const fail = (expected: string): never => {
    throw new RangeError(`Invalid value "${text}" for ${source}: expected ${expected}`);
  };
  const kind = spec.kind;
  if (kind === "string") return text;
  if (typeof kind === "object") {
    return kind.oneOf.includes(text) ? text : fail(`one of ${kind.oneOf.join(", ")}`);
  }
  if (kind === "int") {
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= 0 ? n : fail("a non-negative integer");
  }
  if (kind === "bytes") {
    return withUnit(text, BYTE_UNITS) ?? fail('a size such as "65536", "64KiB" or "8MiB"');
  }
  return withUnit(text, DURATION_UNITS) ??
    fail('a duration such as "250ms", "10s" or "2m" (plain numbers are ms)');
}

/** The defaults, resolved. */
export function defaultSettings(): Settings {
  const out: Record<string, string | number> = {};
  for (const spec of SETTINGS) {
    out[spec.key] = convert(spec, spec.default, `the default of --${spec.flag}`);
  }
  return out as unknown as Settings;
}

/** What {@linkcode loadSettings} found. */
export interface LoadedSettings {
  settings: Settings;
  /** True when `--help` was given. */
  help: boolean;
}

/**
 * Resolves settings from command-line flags, then `FLOODGATE_*` variables, then
 * defaults.
 *
 * @throws {RangeError} on an unknown flag or a bad value, naming the flag or
 * variable and what it expects.
 *
 * @example
 * ```ts
 * import { loadSettings } from "./settings.ts";
 * const { settings } = loadSettings(["--port", "9000", "--flush-ms", "50ms"], {});
 * console.log(settings.port, settings.flushMs); // 9000 50
 * ```
 */
export function loadSettings(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): LoadedSettings {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const spec of SETTINGS) options[spec.flag] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new RangeError(`${(err as Error).message}. Run with --help to list the flags.`);
  }
  const settings = defaultSettings() as unknown as Record<string, string | number>;
  for (const spec of SETTINGS) {
    const flagValue = values[spec.flag];
    const variable = envName(spec.flag);
    if (typeof flagValue === "string") {
      settings[spec.key] = convert(spec, flagValue, `--${spec.flag}`);
    } else if (env[variable] !== undefined && env[variable] !== "") {
      settings[spec.key] = convert(spec, env[variable] as string, variable);
    } else if (spec.key === "port" && env.PORT) {
      settings[spec.key] = convert(spec, env.PORT, "PORT");
    }
  }
  const resolved = settings as unknown as Settings;
  checkCrossRules(resolved);
  return { settings: resolved, help: values.help === true };
}

/**
 * The rules between settings.
 *
 * @throws {RangeError} naming the flags and what would hold.
 */
function checkCrossRules(s: Settings): void {
  const fail = (message: string): never => {
    throw new RangeError(message);
  };
  if (s.engine === "deno" && s.compression !== "off") {
    fail(
      `--compression ${s.compression} needs --engine ws: Deno.upgradeWebSocket negotiates no permessage-deflate`,
    );
  }
  if (s.lowWaterBytes > s.highWaterBytes) {
    fail(
      `--low-water-bytes (${s.lowWaterBytes}) must not exceed --high-water-bytes (${s.highWaterBytes})`,
    );
  }
  if (s.maxReassemblyBytes < s.maxMessageBytes) {
    fail(
      `--max-reassembly-bytes (${s.maxReassemblyBytes}) must be at least --max-message-bytes (${s.maxMessageBytes})`,
    );
  }
  if (s.redisUrl !== "") {
    let protocol = "";
    try {
      protocol = new URL(s.redisUrl).protocol;
    } catch {
      // reported below
    }
    if (protocol !== "redis:" && protocol !== "rediss:") {
      fail(
        `Invalid value "${s.redisUrl}" for --redis-url: expected redis://host:port or rediss://…`,
      );
    }
  }
  try {
    TrustedProxies.parse(s.trustedProxies);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    fail(`Invalid value for --trusted-proxies: ${err.message}`);
  }
  for (const origin of s.allowedOrigins.split(",").map((o) => o.trim()).filter(Boolean)) {
    let ok = false;
    try {
      ok = new URL(origin).origin === origin;
    } catch {
      // reported below
    }
    if (!ok) {
      fail(
        `Invalid value "${origin}" in --allowed-origins: expected origins such as https://app.example.com`,
      );
    }
  }
}

/** The `--help` text. */
export function helpText(): string {
  const lines = [
    "Floodgate: a WebSocket broadcast service that never lets one slow client hold up the rest.",
    "",
    "Usage: deno task start [flags]",
    "",
    "Every flag can also be set with its FLOODGATE_* environment variable.",
    "Sizes take units (64KiB, 8MiB); durations take units (250ms, 10s); plain numbers are bytes or ms.",
    "",
  ];
  for (const spec of SETTINGS) {
    lines.push(`  --${spec.flag} <${kindLabel(spec.kind)}>`.padEnd(34) + `${spec.doc}`);
    lines.push(
      " ".repeat(34) +
        `default: ${spec.default}   allowed: ${allowedOf(spec)}   env: ${envName(spec.flag)}`,
    );
  }
  lines.push("  -h, --help".padEnd(34) + "Show this help");
  return lines.join("\n");
}

/** The settings as a Markdown table, as in the README. */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map((s) =>
    `| \`--${s.flag}\` | \`${envName(s.flag)}\` | \`${s.default}\` | ${allowedOf(s)} | ${s.doc} |`
  );
  return [
    "| Flag | Variable | Default | Allowed | Meaning |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** What a setting accepts, for `--help` and the README: "0 (off) or ≥ 100 ms", "1–9"… */
export function allowedOf(spec: SettingSpec): string {
  if (typeof spec.kind === "object") return spec.kind.oneOf.join(", ");
  if (spec.kind === "string") return "text";
  const unit = spec.kind === "bytes" ? " B" : spec.kind === "duration" ? " ms" : "";
  const max = spec.kind === "duration" ? Math.min(spec.max ?? Infinity, MAX_DURATION_MS) : spec.max;
  const range = max === undefined || max === MAX_DURATION_MS && spec.max === undefined
    ? `≥ ${spec.min ?? 0}${unit}`
    : `${spec.min ?? 0}–${max}${unit}`;
  return spec.zeroIsOff ? `0 (off) or ${range}` : range;
}

function kindLabel(kind: Kind): string {
  return typeof kind === "object" ? kind.oneOf.join("|") : kind === "int" ? "n" : kind;
}
