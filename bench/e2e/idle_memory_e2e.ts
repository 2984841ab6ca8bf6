/**
 * Resident memory per idle connection, per engine, side by side in one run: a
 * server process, then N plain WebSocket connections from a subscriber agent
 * (subscribed, nothing published), RSS read from /proc before and after.
 * Engines are interleaved across repetitions.
 *
 * ```sh
 * deno run -A bench/e2e/idle_memory_e2e.ts                     # 4000 connections, both engines
 * deno run -A bench/e2e/idle_memory_e2e.ts --conns 10000 --engines ws --reps 2
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { median, spawnAgent } from "./bench_util.ts";
import { spawnServer } from "../../lib/load/server_process.ts";

const AGENT = new URL("../../lib/load/agent.ts", import.meta.url).pathname;
const MiB = 1024 * 1024;

interface Result {
  engine: string;
  conns: number;
  /** RSS of the fresh server, before any connection. */
  freshMiB: number;
  heldMiB: number;
  perConnKiB: number;
  failures: number;
}

async function runCase(engine: string, conns: number, flags: string[]): Promise<Result> {
  const server = await spawnServer(["--engine", engine, "--log-level", "warn", ...flags]);
  await new Promise((r) => setTimeout(r, 1000));
  const fresh = server.rssBytes();
  const agent = spawnAgent(AGENT, server.url, [
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
  await new Promise((r) => setTimeout(r, 3000));
  const held = server.rssBytes();
  await agent.nextLine();
  await agent.status;
  await server.stop();
  return {
    engine,
    conns: ready.ready,
    freshMiB: fresh / MiB,
    heldMiB: held / MiB,
    perConnKiB: (held - fresh) / 1024 / Math.max(1, ready.ready),
    failures: ready.failures,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      conns: { type: "string", default: "4000" },
      engines: { type: "string", default: "ws,deno" },
      reps: { type: "string", default: "2" },
      "server-flag": { type: "string", multiple: true, default: [] },
    },
  });
  const engines = values.engines!.split(",");
  const results = new Map<string, Result[]>(engines.map((e) => [e, []]));
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (const engine of engines) {
      const r = await runCase(engine, Number(values.conns), values["server-flag"]!);
      console.error(
        `rep ${rep + 1}, ${engine}: ${r.conns} connections (${r.failures} failed), fresh ${
          r.freshMiB.toFixed(1)
        } MiB, held ${r.heldMiB.toFixed(1)} MiB, ${r.perConnKiB.toFixed(1)} KiB per connection`,
      );
      results.get(engine)!.push(r);
    }
  }
  console.log(
    "| engine | connections | fresh server RSS MiB | RSS with them MiB | KiB per idle connection |",
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const [engine, rs] of results) {
    const m = (f: (r: Result) => number) => median(rs.map(f));
    console.log(
      `| ${engine} | ${m((r) => r.conns)} | ${m((r) => r.freshMiB).toFixed(1)} | ${
        m((r) => r.heldMiB).toFixed(1)
      } | ${m((r) => r.perConnKiB).toFixed(1)} |`,
    );
  }
}
