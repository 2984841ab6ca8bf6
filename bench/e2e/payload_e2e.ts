/**
 * Large payloads and compression over real sockets (issue #4), cases side by
 * side in one run: a server process, an agent process with 50 `npm:ws`
 * clients subscribed to `tabs` and `terminal`, and open-loop HTTP publishers.
 *
 * ```sh
 * # small-message latency while 424 KB state trees stream at 2/s, chunked or not
 * deno task bench:payload --experiment interleave
 * # bytes on the wire and server CPU per delivery, by compression mode
 * deno task bench:payload --experiment compression
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { median, spawnAgent } from "./bench_util.ts";
import { LatencyHistogram, wallClockMs } from "../../lib/load/latency_histogram.ts";
import { sessionUpdate, tabTree } from "../../lib/load/payloads.ts";
import { Publisher } from "../../lib/load/publisher.ts";
import { spawnServer } from "../../lib/load/server_process.ts";
import type { PayloadAgentReport } from "./payload_agent.ts";

const AGENT = new URL("./payload_agent.ts", import.meta.url).pathname;
const GLIBC = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456";

interface Case {
  name: string;
  flags: string[];
  env?: Record<string, string>;
  /** Clients offer permessage-deflate. */
  deflate: boolean;
  /** Large (424 KB) publishes per second on `tabs`, and small ones on `terminal`. */
  largeRate: number;
  smallRate: number;
  /** The small message: 200 B terminal line, or a 2 KB session update. */
  small: "line" | "session";
}

interface Result {
  c: Case;
  smallPerSec: number;
  largePerSec: number;
  p50: number;
  p99: number;
  max: number;
  serverCpuPercent: number;
  cpuUsPerDelivery: number;
  wireBytesPerDelivery: number;
  rssMiB: number;
  deflateClients: number;
  agentCpuPercent: number;
  closes: Record<string, number>;
}

async function runCase(
  c: Case,
  clients: number,
  warmupMs: number,
  durationMs: number,
  agents = 1,
  latencyFrom = "ts",
) {
  const server = await spawnServer(["--log-level", "warn", ...c.flags], { env: c.env });
  // Clients are split over `agents` processes, so one process's reading does not hold up the rest.
  const children = Array.from({ length: agents }, (_, a) =>
    spawnAgent(AGENT, server.url, [
      "--clients",
      String(Math.floor(clients / agents) + (a < clients % agents ? 1 : 0)),
      ...(c.deflate ? ["--deflate"] : []),
      "--latency-from",
      latencyFrom,
      "--warmup-ms",
      String(warmupMs),
      "--duration-ms",
      String(durationMs),
    ]));
  const readers = children.map((child) => child.nextLine);
  await Promise.all(readers.map((next) => next())); // ready
  const trees = [0, 1, 2, 3].map((v) => tabTree(424_000, v));
  const publishers: Publisher[] = [];
  if (c.largeRate > 0) {
    publishers.push(
      new Publisher({
        url: server.url,
        rate: c.largeRate,
        maxInFlight: 8,
        makeItem: (i) => ({ topic: "tabs", key: "window-1", data: trees[i % trees.length] }),
      }),
    );
  }
  publishers.push(
    new Publisher({
      url: server.url,
      rate: c.smallRate,
      maxInFlight: 64,
      makeItem: (i) =>
        c.small === "line"
          ? {
            topic: "terminal",
            data: {
              sentAt: wallClockMs(),
              line: `$ tail -f build.log #${i}`,
              pad: "x".repeat(100),
            },
          }
          : {
            topic: "terminal",
            key: `s-${i % 50}`,
            data: { sentAt: wallClockMs(), ...sessionUpdate(i) },
          },
    }),
  );
  for (const p of publishers) p.start();
  await new Promise((r) => setTimeout(r, warmupMs));
  const cpu0 = server.cpuSeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const cpu1 = server.cpuSeconds();
  const seconds = (performance.now() - t0) / 1000;
  const rss = server.rssBytes();
  const reports = await Promise.all(
    readers.map(async (next) => JSON.parse(await next()) as PayloadAgentReport),
  );
  await Promise.all(publishers.map((p) => p.stop()));
  await Promise.all(children.map((child) => child.status));
  await server.stop();
  const latency = LatencyHistogram.decode(reports[0].latency);
  for (const r of reports.slice(1)) latency.add(LatencyHistogram.decode(r.latency));
  const lat = latency.summary();
  const sum = (f: (r: PayloadAgentReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const report = {
    small: sum((r) => r.small),
    large: sum((r) => r.large),
    bytesRead: sum((r) => r.bytesRead),
    deflate: sum((r) => r.deflate),
    cpuSeconds: sum((r) => r.cpuSeconds),
    closes: Object.assign({}, ...reports.map((r) => r.closes)) as Record<string, number>,
  };
  // Per delivery of the case's payload: 424 KB trees when there are any, else the small ones.
  const deliveries = c.largeRate > 0 ? report.large : report.small;
  return {
    c,
    smallPerSec: report.small / (durationMs / 1000),
    largePerSec: report.large / (durationMs / 1000),
    p50: lat.p50,
    p99: lat.p99,
    max: lat.max,
    serverCpuPercent: ((cpu1 - cpu0) / seconds) * 100,
    cpuUsPerDelivery: ((cpu1 - cpu0) * 1e6) / deliveries,
    wireBytesPerDelivery: report.bytesRead / deliveries,
    rssMiB: rss / (1 << 20),
    deflateClients: report.deflate,
    agentCpuPercent: (report.cpuSeconds / (durationMs / 1000)) * 100,
    closes: report.closes,
  } satisfies Result;
}

function table(results: Result[][]): string {
  const rows = [
    "| case | small msg/s got | 424 KB msg/s got | small p50 ms | small p99 ms | small max ms | server CPU % | CPU µs/delivery | wire B/delivery | RSS MiB | deflate clients | agent CPU % |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const reps of results) {
    const m = (f: (r: Result) => number) => median(reps.map(f));
    rows.push(
      `| ${reps[0].c.name} | ${m((r) => r.smallPerSec).toFixed(0)} | ${
        m((r) => r.largePerSec).toFixed(1)
      } | ${m((r) => r.p50).toFixed(1)} | ${m((r) => r.p99).toFixed(1)} | ${
        m((r) => r.max).toFixed(0)
      } | ${m((r) => r.serverCpuPercent).toFixed(1)} | ${
        m((r) => r.cpuUsPerDelivery).toFixed(1)
      } | ${Math.round(m((r) => r.wireBytesPerDelivery))} | ${m((r) => r.rssMiB).toFixed(0)} | ${
        reps[0].deflateClients
      } | ${m((r) => r.agentCpuPercent).toFixed(0)} |`,
    );
  }
  return rows.join("\n");
}

function cases(experiment: string): Case[] {
  const base = { deflate: true, smallRate: 50, small: "line" as const };
  if (experiment === "interleave") {
    return [
      { ...base, name: "small only", flags: [], largeRate: 0 },
      { ...base, name: "+ 424 KB at 2/s, chunked (64 KiB)", flags: [], largeRate: 2 },
      { ...base, name: "+ 424 KB at 2/s, unchunked", flags: ["--chunk-bytes", "0"], largeRate: 2 },
      {
        ...base,
        name: "+ 424 KB at 2/s, chunked, GLIBC_TUNABLES",
        flags: [],
        largeRate: 2,
        env: { GLIBC_TUNABLES: GLIBC },
      },
      {
        ...base,
        name: "+ 424 KB at 2/s, chunked (16 KiB), GLIBC_TUNABLES",
        flags: ["--chunk-bytes", "16KiB"],
        largeRate: 2,
        env: { GLIBC_TUNABLES: GLIBC },
      },
      {
        ...base,
        name: "+ 424 KB at 2/s, chunked (8 KiB), GLIBC_TUNABLES",
        flags: ["--chunk-bytes", "8KiB"],
        largeRate: 2,
        env: { GLIBC_TUNABLES: GLIBC },
      },
      {
        ...base,
        name: "+ 424 KB at 2/s, chunked (32 KiB), GLIBC_TUNABLES",
        flags: ["--chunk-bytes", "32KiB"],
        largeRate: 2,
        env: { GLIBC_TUNABLES: GLIBC },
      },
      {
        ...base,
        name: "+ 424 KB at 2/s, unchunked, GLIBC_TUNABLES",
        flags: ["--chunk-bytes", "0"],
        largeRate: 2,
        env: { GLIBC_TUNABLES: GLIBC },
      },
    ];
  }
  const out: Case[] = [];
  for (
    const [payload, largeRate, smallRate, small] of [
      ["2 KB session update", 0, 200, "session"],
      ["424 KB state tree", 2, 1, "line"],
    ] as const
  ) {
    for (
      const [mode, flags, deflate] of [
        ["off (native engine)", ["--compression", "off"], true],
        ["ws engine, no deflate", ["--compression", "deflate"], false],
        ["deflate per client (ws)", ["--compression", "deflate-per-socket"], true],
        ["deflate once per broadcast", ["--compression", "deflate"], true],
      ] as const
    ) {
      out.push({
        name: `${payload}: ${mode}`,
        flags: [...flags],
        deflate,
        largeRate,
        smallRate,
        small,
      });
    }
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      experiment: { type: "string", default: "interleave" },
      clients: { type: "string", default: "50" },
      reps: { type: "string", default: "1" },
      "warmup-ms": { type: "string", default: "3000" },
      "duration-ms": { type: "string", default: "10000" },
      only: { type: "string" },
      agents: { type: "string", default: "1" },
      "latency-from": { type: "string", default: "ts" },
    },
  });
  const list = cases(values.experiment!).filter((c) =>
    !values.only || values.only.split("|").some((part) => c.name.includes(part))
  );
  const results: Result[][] = list.map(() => []);
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (let i = 0; i < list.length; i++) {
      console.error(`rep ${rep + 1}: ${list[i].name}`);
      const r = await runCase(
        list[i],
        Number(values.clients),
        Number(values["warmup-ms"]),
        Number(values["duration-ms"]),
        Number(values.agents),
        values["latency-from"],
      );
      console.error(
        `  small p50 ${r.p50} p99 ${r.p99} ms, CPU ${r.serverCpuPercent.toFixed(1)} %, ${
          r.cpuUsPerDelivery.toFixed(1)
        } µs/delivery, ${Math.round(r.wireBytesPerDelivery)} B/delivery, closes ${
          JSON.stringify(r.closes)
        }`,
      );
      results[i].push(r);
    }
  }
  console.log(table(results));
}
