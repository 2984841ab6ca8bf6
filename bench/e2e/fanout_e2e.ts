/**
 * End-to-end fan-out benchmark over real sockets: a server process, a
 * subscriber-agent process and open-loop HTTP publishers, all on loopback.
 * Reports server CPU µs per delivered message (from /proc), delivery rate and
 * end-to-end latency (publish accepted → received) for each case, side by side
 * in one run, cases interleaved across repetitions.
 *
 * Each case names the engine (`--engine ws`, the default, or `deno`) and the
 * subscribers' level: `plain` (a bare WebSocket: no subprotocol, never sends
 * a frame) or `protocol` (offers `floodgate.v1.json`, answers `ping {id}`).
 *
 * ```sh
 * deno task bench:e2e                       # the default matrix
 * deno task bench:e2e --subs 1000 --modes queue --stalled 0,1 --reps 3
 * deno task bench:e2e --engines ws,deno --clients plain,protocol --modes queue
 * deno task bench:e2e --server-v8-flags ";--memory-saver-mode"   # V8 flags A/B, server only
 * ```
 *
 * The server runs with `deno task start`'s V8 flags ({@linkcode SERVER_V8_FLAGS}) unless
 * `--server-v8-flags` says otherwise.
 *
 * ```sh
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { median, spawnAgent } from "./bench_util.ts";
import type { AgentReport } from "../../lib/load/agent.ts";
import { LatencyHistogram, wallClockMs } from "../../lib/load/latency_histogram.ts";
import { fetchMetrics } from "../../lib/load/prometheus_text.ts";
import { Publisher } from "../../lib/load/publisher.ts";
import { SERVER_V8_FLAGS, type ServerProcess, spawnServer } from "../../lib/load/server_process.ts";

interface Case {
  subs: number;
  engine: "ws" | "deno";
  clients: "plain" | "protocol";
  mode: "queue" | "naive";
  /** The server's V8 flags, ","-separated; "" for none. */
  v8Flags: string;
  stalled: number;
  rate: number;
}

interface CaseResult extends Case {
  serverCpuUsPerDelivery: number;
  serverCpuPercent: number;
  deliveriesPerSec: number;
  /** Messages per WebSocket frame (batching); 1 in naive mode. */
  messagesPerFrame: number;
  expectedPerSec: number;
  p50: number;
  p99: number;
  max: number;
  missing: number;
  agentCpuPercent: number;
  closes: Record<string, number>;
}

const AGENT = new URL("../../lib/load/agent.ts", import.meta.url).pathname;
const PAD = "x".repeat(60); // makes the message frame ~200 bytes

async function metric(server: ServerProcess, name: string): Promise<number> {
  return (await fetchMetrics(`${server.url}/metrics`)).get(name) ?? NaN;
}

async function runCase(
  c: Case,
  warmupMs: number,
  durationMs: number,
  flags: string[],
): Promise<CaseResult> {
  const server = await spawnServer([
    "--mode",
    c.mode,
    "--engine",
    c.engine,
    "--log-level",
    "warn",
    ...flags,
  ], { v8Flags: c.v8Flags.split(",").filter(Boolean) });
  const agent = spawnAgent(AGENT, server.url, [
    "--clients",
    String(c.subs),
    "--stalled",
    String(c.stalled),
    "--warmup-ms",
    String(warmupMs),
    "--duration-ms",
    String(durationMs),
    ...(c.clients === "plain" ? ["--plain"] : []),
  ]);
  const nextLine = agent.nextLine;
  const ready = JSON.parse(await nextLine());
  if (ready.failures > 0) console.error(`  ${ready.failures} connections failed`);

  const publishers = Array.from({ length: 8 }, (_, p) =>
    new Publisher({
      url: server.url,
      rate: c.rate / 8,
      maxInFlight: 256,
      makeItem: (i) => ({ topic: "feed", data: { sentAt: wallClockMs(), p, i, pad: PAD } }),
    }));
  for (const p of publishers) p.start();
  await new Promise((r) => setTimeout(r, warmupMs));
  const cpu0 = server.cpuSeconds();
  const delivered0 = await metric(server, "floodgate_delivered_total");
  const frames0 = await metric(server, "floodgate_frames_sent_total");
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const cpu1 = server.cpuSeconds();
  const delivered1 = await metric(server, "floodgate_delivered_total");
  const frames1 = await metric(server, "floodgate_frames_sent_total");
  const seconds = (performance.now() - t0) / 1000;
  const report = JSON.parse(await nextLine()) as AgentReport;
  await Promise.all(publishers.map((p) => p.stop()));
  await agent.status;
  await server.stop();

  const latency = LatencyHistogram.decode(report.latency).summary();
  const delivered = delivered1 - delivered0;
  const messagesPerFrame = c.mode === "naive" ? 1 : delivered / Math.max(1, frames1 - frames0);
  return {
    ...c,
    serverCpuUsPerDelivery: ((cpu1 - cpu0) * 1e6) / delivered,
    messagesPerFrame,
    serverCpuPercent: ((cpu1 - cpu0) / seconds) * 100,
    deliveriesPerSec: delivered / seconds,
    expectedPerSec: c.rate * c.subs,
    p50: latency.p50,
    p99: latency.p99,
    max: latency.max,
    missing: report.missing,
    agentCpuPercent: (report.cpuSeconds / (durationMs / 1000)) * 100,
    closes: report.closes,
  };
}

function table(results: CaseResult[][]): string {
  const rows = [
    "| subscribers | engine | clients | mode | V8 flags | stalled | offered msg/s | deliveries/s | msgs/frame | server CPU µs/delivery | server CPU % | p50 ms | p99 ms | max ms | missing | closes |",
    "|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const reps of results) {
    const c = reps[0];
    const m = (f: (r: CaseResult) => number) => median(reps.map(f));
    rows.push(
      `| ${c.subs} | ${c.engine} | ${c.clients} | ${c.mode} | ${
        c.v8Flags || "—"
      } | ${c.stalled} | ${c.rate} | ${
        Math.round(m((r) => r.deliveriesPerSec))
      } / ${c.expectedPerSec} | ${m((r) => r.messagesPerFrame).toFixed(2)} | ${
        m((r) => r.serverCpuUsPerDelivery).toFixed(2)
      } | ${m((r) => r.serverCpuPercent).toFixed(0)} | ${m((r) => r.p50).toFixed(2)} | ${
        m((r) => r.p99).toFixed(2)
      } | ${m((r) => r.max).toFixed(1)} | ${m((r) => r.missing)} | ${
        reps.map((r) => JSON.stringify(r.closes)).join(" ")
      } |`,
    );
  }
  return rows.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      subs: { type: "string", default: "100,1000" },
      modes: { type: "string", default: "queue,naive" },
      engines: { type: "string", default: "ws" },
      clients: { type: "string", default: "protocol,plain" },
      stalled: { type: "string", default: "0,1" },
      "rate-100": { type: "string", default: "500" },
      "rate-1000": { type: "string", default: "200" },
      rate: { type: "string" },
      reps: { type: "string", default: "1" },
      "warmup-ms": { type: "string", default: "3000" },
      "duration-ms": { type: "string", default: "10000" },
      json: { type: "boolean", default: false },
      "server-flag": { type: "string", multiple: true, default: [] },
      /** V8 flag sets to compare, ";"-separated, each ","-separated; "" is none. */
      "server-v8-flags": { type: "string", default: SERVER_V8_FLAGS.join(",") },
    },
  });
  const cases: Case[] = [];
  for (const subs of values.subs!.split(",").map(Number)) {
    const rate = Number(values.rate ?? (subs >= 1000 ? values["rate-1000"] : values["rate-100"]));
    for (const engine of values.engines!.split(",") as Case["engine"][]) {
      for (const clients of values.clients!.split(",") as Case["clients"][]) {
        for (const mode of values.modes!.split(",") as Case["mode"][]) {
          for (const stalled of values.stalled!.split(",").map(Number)) {
            // A stalled client in naive mode stops all delivery; that is the demo's job.
            if (mode === "naive" && stalled > 0) continue;
            for (const v8Flags of values["server-v8-flags"]!.split(";")) {
              cases.push({ subs, engine, clients, mode, v8Flags, stalled, rate });
            }
          }
        }
      }
    }
  }
  const results: CaseResult[][] = cases.map(() => []);
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      console.error(
        `rep ${
          rep + 1
        }: ${c.subs} ${c.clients} subscribers, ${c.engine}, ${c.mode}, ${c.stalled} stalled, ${c.rate} msg/s`,
      );
      const r = await runCase(
        c,
        Number(values["warmup-ms"]),
        Number(values["duration-ms"]),
        values["server-flag"]!,
      );
      console.error(
        `  ${r.serverCpuUsPerDelivery.toFixed(2)} µs/delivery, ${
          Math.round(r.deliveriesPerSec)
        } deliveries/s, p50 ${r.p50} ms, p99 ${r.p99} ms, closes ${
          JSON.stringify(r.closes)
        }, agent CPU ${r.agentCpuPercent.toFixed(0)}%`,
      );
      results[i].push(r);
    }
  }
  console.log(values.json ? JSON.stringify(results, null, 2) : table(results));
}
