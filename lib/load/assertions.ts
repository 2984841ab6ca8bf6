/**
 * Thresholds for CI: `--assert 'p99<50ms' --assert 'missing=0'`. Each assertion
 * names a metric of the run, a comparison and a value with an optional unit;
 * the load tester exits non-zero when one fails.
 *
 * @module
 */

/** The unit family of a metric; it decides which units a threshold may use. */
export type MetricUnit = "ms" | "count" | "percent" | "bytes" | "rate";

/** The metrics an assertion may name, with their unit and meaning. */
export const ASSERTION_METRICS: Readonly<Record<string, { unit: MetricUnit; doc: string }>> = {
  p50: { unit: "ms", doc: "median end-to-end latency of fast clients" },
  p95: { unit: "ms", doc: "95th percentile latency of fast clients" },
  p99: { unit: "ms", doc: "99th percentile latency of fast clients" },
  p999: { unit: "ms", doc: "99.9th percentile latency of fast clients" },
  max: { unit: "ms", doc: "highest latency of fast clients" },
  mean: { unit: "ms", doc: "mean latency of fast clients" },
  "slow.p50": { unit: "ms", doc: "median latency of slow clients" },
  "slow.p99": { unit: "ms", doc: "99th percentile latency of slow clients" },
  missing: { unit: "count", doc: "seqs neither received nor reported in a gap (silent loss)" },
  duplicates: { unit: "count", doc: "messages received twice" },
  out_of_order: { unit: "count", doc: "messages received after a later seq" },
  gapped: { unit: "count", doc: "seqs the server reported as skipped, all clients" },
  "fast.gapped": { unit: "count", doc: "seqs reported as skipped to fast clients" },
  undelivered: {
    unit: "count",
    doc: "seqs fast clients had not received by the end (--settle after the last publish)",
  },
  connect_success: { unit: "percent", doc: "connections that succeeded" },
  connect_failed: { unit: "count", doc: "connections that failed" },
  connect_avg: { unit: "ms", doc: "mean WebSocket connect time" },
  connect_max: { unit: "ms", doc: "slowest WebSocket connect time" },
  msgs_per_client: { unit: "rate", doc: "lowest messages/s received by a fast client" },
  throughput: { unit: "rate", doc: "messages/s received by all clients together" },
  publish_failed: { unit: "count", doc: "publishes the server did not accept" },
  publish_skipped: { unit: "count", doc: "publishes not sent because too many were in flight" },
  client_errors: { unit: "count", doc: "unparsable frames and error frames received" },
  unexpected_closes: { unit: "count", doc: "fast clients the server closed during the run" },
  rss_max: { unit: "bytes", doc: "highest server RSS seen in /metrics" },
  cpu_avg: { unit: "percent", doc: "server CPU over the measured window, % of one core" },
  cpu_max: { unit: "percent", doc: "highest server CPU in one sample, % of one core" },
};

const CLOSES = /^closes_(\d{4})$/;

const UNITS: Record<MetricUnit, Record<string, number>> = {
  ms: { "": 1, ms: 1, s: 1000, us: 0.001, "µs": 0.001 },
  count: { "": 1 },
  percent: { "": 1, "%": 1 },
  bytes: { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1 << 20, gib: 1 << 30 },
  rate: { "": 1, "/s": 1 },
};

/** A comparison operator. */
export type Operator = "<" | "<=" | ">" | ">=" | "=" | "!=";

/** One parsed assertion. */
export interface Assertion {
  /** As written. */
  text: string;
  metric: string;
  op: Operator;
  /** The threshold in the metric's base unit (ms, count, %, bytes, /s). */
  value: number;
}

/** The outcome of one assertion. */
export interface AssertionResult {
  assertion: Assertion;
  /** The measured value; undefined when the run did not measure it. */
  actual: number | undefined;
  ok: boolean;
}

function unitOf(metric: string): MetricUnit | undefined {
  return CLOSES.test(metric) ? "count" : ASSERTION_METRICS[metric]?.unit;
}

/**
 * Parses `metric op value[unit]`, e.g. `p99<50ms`, `missing=0`,
 * `connect_success>=99.5%`, `rss_max<200MiB`, `closes_4008=1`.
 *
 * @throws {TypeError} naming what is wrong and what is allowed.
 *
 * @example
 * ```ts
 * import { parseAssertion } from "./assertions.ts";
 * parseAssertion("p99 < 0.5s"); // { text: "p99 < 0.5s", metric: "p99", op: "<", value: 500 }
 * ```
 */
export function parseAssertion(text: string): Assertion {
  const m = /^\s*([a-z0-9_.]+)\s*(<=|>=|==|!=|<|>|=)\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Zµ%/]*)\s*$/
    .exec(text);
  if (!m) {
    throw new TypeError(
      `Invalid assertion "${text}": write metric, comparison, value, e.g. "p99<50ms" or "missing=0"`,
    );
  }
  const [, metric, rawOp, number, rawUnit] = m;
  const unit = unitOf(metric);
  if (!unit) {
    const known = [...Object.keys(ASSERTION_METRICS), "closes_<code>"].join(", ");
    throw new TypeError(`Unknown metric "${metric}" in assertion "${text}"; known: ${known}`);
  }
  const factor = UNITS[unit][rawUnit.toLowerCase()] ?? UNITS[unit][rawUnit];
  if (factor === undefined) {
    const allowed = Object.keys(UNITS[unit]).filter((u) => u !== "").join(", ") || "none";
    throw new TypeError(
      `Unit "${rawUnit}" does not fit ${metric} in assertion "${text}"; allowed units: ${allowed}`,
    );
  }
  const op = (rawOp === "==" ? "=" : rawOp) as Operator;
  return { text, metric, op, value: Number(number) * factor };
}

function compare(actual: number, op: Operator, value: number): boolean {
  switch (op) {
    case "<":
      return actual < value;
    case "<=":
      return actual <= value;
    case ">":
      return actual > value;
    case ">=":
      return actual >= value;
    case "=":
      return actual === value;
    case "!=":
      return actual !== value;
  }
}

/**
 * Checks each assertion against the measured `values` (metric → value in its
 * base unit). A metric the run did not measure fails its assertion. A
 * `closes_<code>` metric not in `values` counts as 0 closes.
 *
 * @example
 * ```ts
 * import { checkAssertions, parseAssertion } from "./assertions.ts";
 * const [r] = checkAssertions([parseAssertion("p99<50ms")], { p99: 72.5 });
 * r.ok; // false
 * ```
 */
export function checkAssertions(
  assertions: readonly Assertion[],
  values: Readonly<Record<string, number>>,
): AssertionResult[] {
  return assertions.map((assertion) => {
    const actual = values[assertion.metric] ??
      (CLOSES.test(assertion.metric) ? 0 : undefined);
    const ok = actual !== undefined && !Number.isNaN(actual) &&
      compare(actual, assertion.op, assertion.value);
    return { assertion, actual, ok };
  });
}

/** `--help` lines listing the metrics. */
export function assertionHelp(): string {
  const lines = Object.entries(ASSERTION_METRICS).map(([name, m]) =>
    `    ${name.padEnd(18)}${m.doc} (${m.unit})`
  );
  lines.push(`    ${"closes_<code>".padEnd(18)}clients closed with that code, e.g. closes_4008`);
  return lines.join("\n");
}
