/**
 * Resident memory under stalls, floods and hostile clients, side by side in
 * one run with a bounded Node + `ws` peer (`bench/peers/node_ws_peer.mjs`,
 * which skips sockets holding more than 1 MiB unsent). RSS is the server
 * process's, from /proc, sampled every 250 ms; each scenario starts a fresh
 * server.
 *
 * | scenario | what it does |
 * |---|---|
 * | `stall` | 3 plain readers + 1 client that never reads; 100 msg/s × 48 KiB for `--seconds` |
 * | `large` | 500 publishes of 900 KB to one topic, one reader |
 * | `churn` | 10 MB of keyed state; a client that never reads subscribes and unsubscribes 100 times (Floodgate only: the peer has no subscribe frames) |
 * | `idle`  | `--conns` plain connections, nothing published: KiB per connection and the fresh server's RSS |
 *
 * ```sh
 * deno task bench:memory                         # every scenario, stall for 60 s; Floodgate
 *                                                 # with no V8 flags and with deno task start's
 * deno task bench:memory --scenarios stall --seconds 20 --servers floodgate
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { spawnAgent } from "./bench_util.ts";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import {
  freePort,
  procRssBytes,
  SERVER_V8_FLAGS,
  spawnServer,
} from "../../lib/load/server_process.ts";

const MiB = 1024 * 1024;
const AGENT = new URL("../../lib/load/agent.ts", import.meta.url).pathname;
const PEER_DIR = new URL("../peers/", import.meta.url).pathname;

/** A server under test: its URL, its pid, and how to stop it. */
interface Target {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

type ServerName = "floodgate" | "node-ws";

async function startTarget(name: ServerName, flags: string[], v8Flags: string): Promise<Target> {
  if (name === "floodgate") {
    const s = await spawnServer(["--log-level", "warn", ...flags], {
      v8Flags: v8Flags.split(",").filter(Boolean),
    });
    return { url: s.url, pid: s.pid, stop: () => s.stop() };
  }
  await ensurePeerInstalled();
  const port = freePort();
  const child = new Deno.Command("node", {
    args: [`${PEER_DIR}node_ws_peer.mjs`, "--port", String(port)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read(); // {"listening": port}
  reader.releaseLock();
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

async function ensurePeerInstalled(): Promise<void> {
  try {
    Deno.statSync(`${PEER_DIR}node_modules/ws`);
  } catch {
    const out = await new Deno.Command("npm", {
      args: ["install", "--no-audit", "--no-fund", "--prefix", PEER_DIR],
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`npm install in ${PEER_DIR} failed`);
  }
}

/** Samples a process's RSS every 250 ms until stopped; reports the peak. */
function sampler(pid: number) {
  let peak = procRssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, procRssBytes(pid))), 250);
  return {
    get peak() {
      return Math.max(peak, procRssBytes(pid));
    },
    stop: () => clearInterval(timer),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/publish`, { method: "POST", body: JSON.stringify(body) });
  await res.body?.cancel();
}

/** Plain readers that read everything, in this process. */
async function readers(url: string, topic: string, n: number): Promise<WebSocket[]> {
  const out = Array.from({ length: n }, () => {
    const ws = new WebSocket(`${url.replace("http", "ws")}/ws?topics=${topic}`);
    ws.onmessage = () => {};
    return ws;
  });
  await Promise.all(out.map((ws) => new Promise((r) => (ws.onopen = r))));
  return out;
}

/** Publishes `body(i)` at `rate`/s for `ms`. */
async function paced(url: string, rate: number, ms: number, body: (i: number) => unknown) {
  const start = performance.now();
  for (let i = 0; performance.now() - start < ms; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    await post(url, body(i));
  }
}

interface Row {
  scenario: string;
  server: string;
  baseMiB: number;
  peakGrowthMiB: number;
  afterMiB: number;
  note: string;
}

async function measure(
  scenario: string,
  name: ServerName,
  flags: string[],
  v8Flags: string,
  run: (t: Target) => Promise<string>,
): Promise<Row> {
  const t = await startTarget(name, flags, v8Flags);
  try {
    await sleep(500);
    const base = procRssBytes(t.pid);
    const s = sampler(t.pid);
    const note = await run(t);
    await sleep(3000);
    s.stop();
    return {
      scenario,
      server: name === "floodgate" && v8Flags ? `floodgate ${v8Flags}` : name,
      baseMiB: base / MiB,
      peakGrowthMiB: (s.peak - base) / MiB,
      afterMiB: (procRssBytes(t.pid) - base) / MiB,
      note,
    };
  } finally {
    await t.stop();
  }
}

const SCENARIOS: Record<
  string,
  (seconds: number, conns: number) => (t: Target) => Promise<string>
> = {
  stall: (seconds) => async (t) => {
    const fast = await readers(t.url, "mem", 3);
    const stalled = await RawWebSocket.connect(`${t.url.replace("http", "ws")}/ws?topics=mem`);
    const blob = "y".repeat(48 * 1024);
    await paced(t.url, 100, seconds * 1000, (i) => ({ topic: "mem", data: { i, blob } }));
    stalled.abort();
    for (const ws of fast) ws.close();
    return `${seconds} s`;
  },
  large: () => async (t) => {
    const fast = await readers(t.url, "big", 1);
    const blob = "z".repeat(900_000);
    for (let i = 0; i < 500; i++) await post(t.url, { topic: "big", data: { i, blob } });
    for (const ws of fast) ws.close();
    return "500 × 900 KB";
  },
  churn: () => async (t) => {
    const value = "v".repeat(10_000);
    for (let k = 0; k < 1000; k += 100) {
      await post(
        t.url,
        Array.from({ length: 100 }, (_, j) => ({ topic: "state", key: `k${k + j}`, data: value })),
      );
    }
    const raw = await RawWebSocket.connect(`${t.url.replace("http", "ws")}/ws`);
    let sent = 0;
    for (let i = 0; i < 100; i++) {
      try {
        await raw.sendText(JSON.stringify({ type: "subscribe", topics: ["state"] }));
        await raw.sendText(JSON.stringify({ type: "unsubscribe", topics: ["state"] }));
        sent++;
      } catch {
        break; // closed by the server
      }
      await sleep(20); // 100 frames/s, under --max-inbound-rate (200)
    }
    raw.abort();
    return `${sent} rounds sent`;
  },
  idle: (_s, conns) => async (t) => {
    const before = procRssBytes(t.pid);
    const agent = spawnAgent(AGENT, t.url, [
      "--clients",
      String(conns),
      "--plain",
      "--warmup-ms",
      "4000",
      "--duration-ms",
      "500",
      "--connect-concurrency",
      "100",
    ]);
    const ready = JSON.parse(await agent.nextLine());
    await sleep(3000);
    const perConn = (procRssBytes(t.pid) - before) / 1024 / Math.max(1, ready.ready);
    await agent.nextLine();
    await agent.status;
    return `${ready.ready} connections: ${perConn.toFixed(1)} KiB each`;
  },
};

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scenarios: { type: "string", default: "stall,large,churn,idle" },
      servers: { type: "string", default: "floodgate,node-ws" },
      seconds: { type: "string", default: "60" },
      conns: { type: "string", default: "10000" },
      "server-flag": { type: "string", multiple: true, default: [] },
      /** V8 flag sets for Floodgate's process, ";"-separated, each ","-separated; "" is none. */
      "server-v8-flags": { type: "string", default: `;${SERVER_V8_FLAGS.join(",")}` },
    },
  });
  const rows: Row[] = [];
  for (const scenario of values.scenarios!.split(",")) {
    const make = SCENARIOS[scenario];
    if (!make) {
      throw new RangeError(`Unknown scenario "${scenario}"; try ${Object.keys(SCENARIOS)}`);
    }
    const targets = (values.servers!.split(",") as ServerName[]).flatMap((
      server,
    ): { server: ServerName; v8: string }[] =>
      server === "floodgate"
        ? values["server-v8-flags"]!.split(";").map((v8) => ({ server, v8 }))
        : [{ server, v8: "" }]
    );
    for (const { server, v8 } of targets) {
      if (scenario === "churn" && server !== "floodgate") continue;
      const run = make(Number(values.seconds), Number(values.conns));
      const row = await measure(scenario, server, values["server-flag"]!, v8, run);
      console.error(
        `${scenario} ${server}: base ${row.baseMiB.toFixed(0)} MiB, peak +${
          row.peakGrowthMiB.toFixed(0)
        } MiB, +${row.afterMiB.toFixed(0)} MiB 3 s after (${row.note})`,
      );
      rows.push(row);
    }
  }
  console.log(
    "| scenario | server | fresh RSS MiB | peak RSS growth MiB | growth 3 s after MiB | note |",
  );
  console.log("|---|---|---:|---:|---:|---|");
  for (const r of rows) {
    console.log(
      `| ${r.scenario} | ${r.server} | ${r.baseMiB.toFixed(0)} | ${r.peakGrowthMiB.toFixed(0)} | ${
        r.afterMiB.toFixed(0)
      } | ${r.note} |`,
    );
  }
}
