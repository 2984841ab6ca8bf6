/**
 * One instance vs two instances through Redis, side by side: the load tester
 * (subscribers spread over the instances, publishers too) against
 * (a) one in-memory instance, (b) one instance on Redis, (c) two instances on
 * one Redis. Cases are interleaved across repetitions; Redis's own CPU is
 * measured from /proc as well.
 *
 * ```sh
 * deno task bench:cluster --reps 2 --subscribers 200 --publishers 10 --rate 40
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { defaultConfig } from "../../lib/load/load_config.ts";
import type { LoadResult } from "../../lib/load/load_result.ts";
import { runLoad } from "../../lib/load/load_run.ts";
import { procCpuSeconds, spawnServer } from "../../lib/load/server_process.ts";
import { median } from "./bench_util.ts";

interface Case {
  name: string;
  instances: number;
  redis: boolean;
}

const CASES: Case[] = [
  { name: "1 instance, in memory", instances: 1, redis: false },
  { name: "1 instance, Redis", instances: 1, redis: true },
  { name: "2 instances, Redis", instances: 2, redis: true },
];

interface Row {
  deliveriesPerSec: number;
  serverCpu: number;
  redisCpu: number;
  usPerDelivery: number;
  p50: number;
  p99: number;
  p999: number;
  missing: number;
  undelivered: number;
}

async function startRedis(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

async function runCase(
  c: Case,
  redisUrl: string,
  redisPid: number,
  load: Partial<ReturnType<typeof defaultConfig>>,
) {
  const flags = [
    "--metrics-interval",
    "0",
    ...(c.redis
      ? ["--redis-url", redisUrl, "--redis-prefix", crypto.randomUUID().slice(0, 8)]
      : []),
  ];
  const servers = [];
  for (let i = 0; i < c.instances; i++) {
    servers.push(await spawnServer(["--log-level", "warn", ...flags]));
  }
  const redisCpu0 = procCpuSeconds(redisPid);
  const started = performance.now();
  let result: LoadResult;
  try {
    result = await runLoad({
      ...defaultConfig(),
      ...load,
      url: servers[0].url,
      alsoUrls: servers.slice(1).map((s) => s.url),
    });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const seconds = (performance.now() - started) / 1000;
  const redisCpu = c.redis ? ((procCpuSeconds(redisPid) - redisCpu0) / seconds) * 100 : 0;
  const serverCpu = result.server.cpuAvgPercent ?? NaN;
  const deliveriesPerSec = result.throughput.totalPerSec;
  return {
    deliveriesPerSec,
    serverCpu,
    redisCpu,
    usPerDelivery: (serverCpu / 100) * 1e6 / deliveriesPerSec,
    p50: result.latency.fast.p50,
    p99: result.latency.fast.p99,
    p999: result.latency.fast.p999,
    missing: result.correctness.all.missing,
    undelivered: result.correctness.all.undelivered,
  } satisfies Row;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      reps: { type: "string", default: "2" },
      subscribers: { type: "string", default: "200" },
      publishers: { type: "string", default: "10" },
      rate: { type: "string", default: "40" },
      duration: { type: "string", default: "10" },
    },
  });
  const load = {
    subscribers: Number(values.subscribers),
    publishers: Number(values.publishers),
    rate: Number(values.rate),
    durationSeconds: Number(values.duration),
    warmupSeconds: 2,
    settleMs: 2000,
  };
  const redis = await startRedis();
  const rows: Row[][] = CASES.map(() => []);
  try {
    for (let rep = 0; rep < Number(values.reps); rep++) {
      for (let i = 0; i < CASES.length; i++) {
        const r = await runCase(CASES[i], redis.url, redis.pid, load);
        console.error(`rep ${rep + 1}, ${CASES[i].name}: ${JSON.stringify(r)}`);
        rows[i].push(r);
      }
    }
  } finally {
    await redis.stop();
  }
  const offered = load.publishers * load.rate * load.subscribers;
  console.log(
    `${load.subscribers} subscribers, ${load.publishers} publishers × ${load.rate}/s (${offered} deliveries/s offered), ${load.durationSeconds} s, medians of ${values.reps}\n`,
  );
  console.log(
    "| setup | deliveries/s | Floodgate CPU % (all instances) | µs CPU/delivery | Redis CPU % | p50 ms | p99 ms | p99.9 ms | missing | undelivered |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  CASES.forEach((c, i) => {
    const m = (f: (r: Row) => number) => median(rows[i].map(f));
    console.log(
      `| ${c.name} | ${Math.round(m((r) => r.deliveriesPerSec))} | ${
        m((r) => r.serverCpu).toFixed(0)
      } | ${m((r) => r.usPerDelivery).toFixed(2)} | ${m((r) => r.redisCpu).toFixed(0)} | ${
        m((r) => r.p50).toFixed(2)
      } | ${m((r) => r.p99).toFixed(2)} | ${m((r) => r.p999).toFixed(2)} | ${
        m((r) => r.missing)
      } | ${m((r) => r.undelivered)} |`,
    );
  });
}
