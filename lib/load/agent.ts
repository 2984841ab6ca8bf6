/**
 * A subscriber agent: a child process that holds many subscriber connections,
 * so that their CPU is not the server's nor the publishers'. It connects,
 * prints `{"ready": …}`, measures from the warm-up's end, and after the
 * duration prints one JSON report line and exits.
 *
 * ```sh
 * deno run -A lib/load/agent.ts --url ws://127.0.0.1:8080/ws --clients 1000 \
 *   --topics feed --warmup-ms 2000 --duration-ms 10000 [--plain]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connectAll } from "./connect_pool.ts";
import { LatencyHistogram, wallClockMs } from "./latency_histogram.ts";
import { procCpuSeconds } from "./server_process.ts";
import { type ReadMode, Subscriber } from "./subscriber.ts";

/** The report line an agent prints. */
export interface AgentReport {
  clients: number;
  connectFailures: number;
  connectMsAvg: number;
  connectMsMax: number;
  messages: number;
  frames: number;
  bytes: number;
  missing: number;
  duplicates: number;
  gapped: number;
  closes: Record<string, number>;
  /** Latency of fast clients after warm-up, HDR-encoded (see LatencyHistogram.decode). */
  latency: string;
  /** Messages received by fast clients during the measured window. */
  measuredMessages: number;
  /** CPU seconds the agent used during the measured window. */
  cpuSeconds: number;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string" },
      clients: { type: "string", default: "100" },
      topics: { type: "string", default: "feed" },
      stalled: { type: "string", default: "0" },
      "slow-ms": { type: "string", default: "0" },
      slow: { type: "string", default: "0" },
      "warmup-ms": { type: "string", default: "2000" },
      "duration-ms": { type: "string", default: "10000" },
      "connect-concurrency": { type: "string", default: "50" },
      plain: { type: "boolean", default: false },
    },
  });
  if (!values.url) throw new RangeError("--url is required, e.g. --url ws://127.0.0.1:8080/ws");
  const clients = Number(values.clients);
  const stalled = Number(values.stalled);
  const slow = Number(values.slow);
  const topics = values.topics!.split(",");
  const latency = new LatencyHistogram();
  const modeOf = (i: number): ReadMode =>
    i < stalled
      ? { kind: "stall" }
      : i < stalled + slow
      ? { kind: "slow", slowMs: Number(values["slow-ms"]) }
      : { kind: "fast" };
  const { opened: subs, failed: failures } = await connectAll(
    clients,
    Number(values["connect-concurrency"]),
    (i) => {
      const mode = modeOf(i);
      return Subscriber.connect({
        url: values.url!,
        topics,
        mode,
        latency: mode.kind === "fast" ? latency : undefined,
        measureFrom: Infinity,
        plain: values.plain,
      });
    },
  );
  console.log(JSON.stringify({ ready: subs.length, failures }));

  await new Promise((r) => setTimeout(r, Number(values["warmup-ms"])));
  latency.reset();
  const fast = subs.filter((s) => s.mode.kind === "fast");
  const before = fast.reduce((a, s) => a + s.messages, 0);
  const measureStart = wallClockMs();
  for (const s of subs) s.setMeasureFrom(measureStart);
  const cpuBefore = procCpuSeconds(Deno.pid);
  await new Promise((r) => setTimeout(r, Number(values["duration-ms"])));
  const measuredMessages = fast.reduce((a, s) => a + s.messages, 0) - before;
  const cpuSeconds = procCpuSeconds(Deno.pid) - cpuBefore;

  const reports = await Promise.all(subs.map((s) => s.finish({}, 300)));
  const closes: Record<string, number> = {};
  let missing = 0, duplicates = 0, gapped = 0, messages = 0, frames = 0, bytes = 0;
  for (const r of reports) {
    messages += r.messages;
    frames += r.frames;
    bytes += r.bytes;
    if (r.close) closes[r.close.code] = (closes[r.close.code] ?? 0) + 1;
    for (const c of Object.values(r.topics)) {
      missing += c.missing;
      duplicates += c.duplicates;
      gapped += c.gapped;
    }
  }
  const report: AgentReport = {
    clients: subs.length,
    connectFailures: failures,
    connectMsAvg: subs.reduce((a, s) => a + s.connectMs, 0) / Math.max(1, subs.length),
    connectMsMax: Math.max(0, ...subs.map((s) => s.connectMs)),
    messages,
    frames,
    bytes,
    missing,
    duplicates,
    gapped,
    closes,
    latency: latency.encode(),
    measuredMessages,
    cpuSeconds,
  };
  console.log(JSON.stringify(report));
  await Promise.all(subs.map((s) => s.disconnect()));
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args);
