/**
 * The load tester's command line: flags → a {@linkcode LoadConfig} and what to
 * do with the result. Defaults, then the scenario preset, then flags.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseByteSize } from "../config/settings.ts";
import { type Assertion, assertionHelp, parseAssertion } from "./assertions.ts";
import { defaultConfig, type LoadConfig, validateConfig } from "./load_config.ts";
import { scenario, SCENARIOS } from "./scenarios.ts";

/** What the command line asks for. */
export interface LoadArgs {
  config: LoadConfig;
  scenario: string | undefined;
  /** Start server child processes; `serverFlags` go to each. */
  spawn: boolean;
  /** How many servers `spawn` starts (a cluster needs `--redis-url` in `serverFlags`). */
  instances: number;
  serverFlags: string[];
  json: boolean;
  /** Write the HTML report here. */
  report: string | undefined;
  assertions: Assertion[];
  quiet: boolean;
  help: boolean;
  list: boolean;
}

const OPTIONS = {
  scenario: { type: "string" },
  url: { type: "string", multiple: true },
  instances: { type: "string" },
  spawn: { type: "boolean" },
  publishers: { type: "string" },
  rate: { type: "string" },
  "publish-over": { type: "string" },
  subscribers: { type: "string" },
  slow: { type: "string" },
  "slow-ms": { type: "string" },
  "jitter-ms": { type: "string" },
  stall: { type: "boolean" },
  client: { type: "string" },
  topic: { type: "string" },
  topics: { type: "string" },
  payload: { type: "string" },
  "payload-bytes": { type: "string" },
  "large-bytes": { type: "string" },
  "large-rate": { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  settle: { type: "string" },
  interval: { type: "string" },
  "connect-concurrency": { type: "string" },
  "max-in-flight": { type: "string" },
  "latency-from": { type: "string" },
  header: { type: "string", multiple: true },
  token: { type: "string" },
  step: { type: "string" },
  stage: { type: "string" },
  "max-clients": { type: "string" },
  "p99-limit": { type: "string" },
  json: { type: "boolean" },
  report: { type: "string" },
  assert: { type: "string", multiple: true },
  quiet: { type: "boolean", short: "q" },
  list: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The `--help` text. */
export function loadHelp(): string {
  const scenarios = Object.entries(SCENARIOS).map(([name, s]) =>
    `    ${name.padEnd(17)}${s.description}`
  );
  return `Floodgate load tester: publish → fan-out → receipt, measured per client and checked seq by seq.

Usage: deno task load [--scenario NAME] (--url URL | --spawn [-- SERVER FLAGS]) [flags]

Target
  --url URL               a running Floodgate, e.g. http://127.0.0.1:8080 (default); repeat it
                          for instances of one cluster: clients and publishers are spread over them
  --spawn                 start a local server (main.ts) on a free port; flags after -- go to it,
                          e.g. --spawn -- --mode naive --flush-ms 250
  --instances N           with --spawn, start N servers, e.g. --instances 2 --spawn -- --redis-url
                          redis://127.0.0.1:6379 (default 1)
Load
  --scenario NAME         a preset (below); flags given too override it
  --publishers N          publishers (sessions), each at --rate (default 1)
  --rate R                events/s per publisher (default 10)
  --publish-over http|ws  POST /publish, or publish frames on a WebSocket (default http)
  --subscribers M         WebSocket subscribers, slow ones included (default 10)
  --slow S                how many of them are slow (default 0)
  --slow-ms MS            a slow subscriber's time per message (default 200)
  --jitter-ms MS          ± random variation of --slow-ms (default 0)
  --stall                 slow subscribers stop reading altogether
  --client protocol|plain subscribers speak floodgate.v1.json (answer pings, like the SDK) or are
                          plain WebSockets that send nothing (default protocol)
  --payload pad|session   padded messages, or realistic session updates keyed by session (default pad)
  --payload-bytes SIZE    size of a pad message frame, e.g. 200, 1KiB (default 200)
  --large-bytes SIZE      also publish tab-tree states of this size, e.g. 424KB (default none)
  --large-rate R          tab-tree states per second (default 1)
  --topic NAME            topic (default load-<random>, so live subscribers are not reached)
  --topics N              spread publishers over N topics; subscribers take all (default 1)
Time (seconds)
  --duration S            measured time (default 10)
  --warmup S              publishing before measuring (default 2)
  --settle S              wait after the last publish before counting undelivered seqs (default 3)
  --interval MS           sample and progress interval (default 1000)
Capacity ramp (--scenario capacity)
  --step N                subscribers added per stage (default 250)
  --stage S               seconds per stage (default 3)
  --max-clients N         stop adding at N (default 5000)
  --p99-limit MS          a stage over this p99 is the knee (default 100)
Other
  --connect-concurrency N connections opened at once (default 50)
  --max-in-flight N       publishes in flight per publisher (default 64)
  --latency-from sent|server  from the publisher's send time (default) or the server's ts
  --header 'K: V'         extra HTTP header for publishing (repeatable)
  --token T               for a server with auth on: WebSocket clients send ?token=T, HTTP
                          publishes Authorization: Bearer T (unless --header sets one)
Output
  --json                  print the full result as JSON (instead of the table)
  --report FILE.html      write a self-contained HTML report with charts
  --assert EXPR           fail (exit 1) unless EXPR holds, e.g. 'p99<50ms' 'missing=0' (repeatable)
  -q, --quiet             no progress line
  --list                  list the scenarios
  -h, --help              this help

Scenarios
${scenarios.join("\n")}

Assertion metrics
${assertionHelp()}

Exit status: 0 ok, 1 an assertion failed, 2 bad flags or the run could not start.`;
}

function number(name: string, text: string, integer = false): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new RangeError(
      `Invalid value "${text}" for --${name}: expected ${integer ? "an integer" : "a number"}`,
    );
  }
  return n;
}

function bytes(name: string, text: string): number {
  const n = parseByteSize(text);
  if (n === undefined) {
    throw new RangeError(
      `Invalid value "${text}" for --${name}: expected a size such as 424KB or 1KiB`,
    );
  }
  return n;
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new RangeError(`Invalid value "${text}" for --${name}: expected ${allowed.join(" or ")}`);
  }
  return text as T;
}

/**
 * Parses the load tester's arguments.
 *
 * @throws {RangeError} on an unknown flag, a bad value or an unknown scenario.
 * @throws {TypeError} on a malformed `--assert`.
 *
 * @example
 * ```ts
 * import { parseLoadArgs } from "./load_args.ts";
 * const a = parseLoadArgs(["--scenario", "sessions-10x3x3", "--duration", "5", "--spawn"]);
 * a.config.publishers; // 10
 * a.config.durationSeconds; // 5
 * ```
 */
export function parseLoadArgs(args: readonly string[]): LoadArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new RangeError(`${(err as Error).message}. Run with --help to list the flags.`);
  }
  const v = parsed.values;
  const positionals = parsed.positionals;
  if (positionals.length > 0 && !v.spawn) {
    throw new RangeError(
      `Unexpected argument "${positionals[0]}"; server flags after -- need --spawn`,
    );
  }
  const config = defaultConfig();
  if (v.scenario) {
    const preset = scenario(v.scenario).config;
    Object.assign(config, preset, preset.ramp ? { ramp: { ...preset.ramp } } : {});
  }
  if (v.url && v.url.length > 0) {
    const [first, ...rest] = v.url.map((u) => u.replace(/\/+$/, ""));
    config.url = first;
    config.alsoUrls = rest;
  }
  if (v.publishers) config.publishers = number("publishers", v.publishers, true);
  if (v.rate) config.rate = number("rate", v.rate);
  if (v["publish-over"]) {
    config.publishOver = oneOf("publish-over", v["publish-over"], ["http", "ws"]);
  }
  if (v.subscribers) config.subscribers = number("subscribers", v.subscribers, true);
  if (v.slow) config.slow = number("slow", v.slow, true);
  if (v["slow-ms"]) config.slowMs = number("slow-ms", v["slow-ms"]);
  if (v["jitter-ms"]) config.jitterMs = number("jitter-ms", v["jitter-ms"]);
  if (v.stall) config.stall = true;
  if (v.client) config.client = oneOf("client", v.client, ["protocol", "plain"]);
  if (v.topic) config.topic = v.topic;
  if (v.topics) config.topics = number("topics", v.topics, true);
  if (v.payload) config.payload = oneOf("payload", v.payload, ["pad", "session"]);
  if (v["payload-bytes"]) config.payloadBytes = bytes("payload-bytes", v["payload-bytes"]);
  if (v["large-bytes"]) config.largeBytes = bytes("large-bytes", v["large-bytes"]);
  if (v["large-rate"]) config.largeRate = number("large-rate", v["large-rate"]);
  if (v.duration) config.durationSeconds = number("duration", v.duration);
  if (v.warmup) config.warmupSeconds = number("warmup", v.warmup);
  if (v.settle) config.settleMs = number("settle", v.settle) * 1000;
  if (v.interval) config.sampleMs = number("interval", v.interval);
  if (v["connect-concurrency"]) {
    config.connectConcurrency = number("connect-concurrency", v["connect-concurrency"], true);
  }
  if (v["max-in-flight"]) config.maxInFlight = number("max-in-flight", v["max-in-flight"], true);
  if (v["latency-from"]) {
    config.latencyFrom = oneOf("latency-from", v["latency-from"], ["sent", "server"]) === "sent"
      ? "sentAt"
      : "ts";
  }
  if (v.token) config.token = v.token;
  for (const header of v.header ?? []) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new RangeError(`Invalid --header "${header}": expected "Name: value"`);
    config.headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  if (v.step || v.stage || v["max-clients"] || v["p99-limit"]) {
    if (!config.ramp) {
      throw new RangeError(
        "--step, --stage, --max-clients and --p99-limit need --scenario capacity",
      );
    }
    if (v.step) config.ramp.step = number("step", v.step, true);
    if (v.stage) config.ramp.stageSeconds = number("stage", v.stage);
    if (v["max-clients"]) config.ramp.maxClients = number("max-clients", v["max-clients"], true);
    if (v["p99-limit"]) config.ramp.p99LimitMs = number("p99-limit", v["p99-limit"]);
  }
  const out: LoadArgs = {
    config,
    scenario: v.scenario,
    spawn: v.spawn === true,
    instances: v.instances ? number("instances", v.instances, true) : 1,
    serverFlags: positionals,
    json: v.json === true,
    report: v.report,
    assertions: (v.assert ?? []).map(parseAssertion),
    quiet: v.quiet === true,
    help: v.help === true,
    list: v.list === true,
  };
  if (!out.help && !out.list) validateConfig(config);
  return out;
}
