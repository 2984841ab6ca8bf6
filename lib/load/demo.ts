/**
 * `deno task demo`: the slow-client problem and its cure side by side, in one
 * command, on one build. Two servers start from this checkout, one with
 * `--mode naive` (`await` each send, as most broadcast loops do) and one with
 * Floodgate's queues; each gets the same load at the same time: 50 msgs/s to 3
 * fast clients and 1 slow one that really reads slowly over raw TCP (or, with
 * `--stall`, stops reading).
 *
 * ```sh
 * deno task demo
 * deno task demo --stall --seconds 20
 * deno task demo -- --slow-timeout 3s      # flags after -- go to both servers
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseByteSize } from "../config/settings.ts";
import { demoSide, demoTable, demoVerdict } from "./demo_report.ts";
import { fmtBytes, fmtMs, fmtNum } from "./format.ts";
import { defaultConfig, type LoadConfig } from "./load_config.ts";
import type { LoadResult } from "./load_result.ts";
import { runLoad, type RunProgress } from "./load_run.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";

const HELP = `Floodgate demo: one slow client, naive broadcast vs per-client queues, side by side.

Usage: deno task demo [flags] [-- SERVER FLAGS]

  --seconds S          how long to publish (default 15)
  --rate R             messages/s (default 50)
  --payload-bytes SIZE message size (default 20KB)
  --slow-ms MS         the slow client's time per message (default 100, i.e. 10 msgs/s)
  --stall              the slow client stops reading instead
  -h, --help           this help

Flags after -- go to both servers (e.g. -- --slow-timeout 3s).`;

function explain(c: LoadConfig): string {
  const slow = c.stall
    ? "stops reading after the handshake"
    : `reads one message every ${c.slowMs} ms`;
  const excess = c.stall ? c.rate : Math.max(0, c.rate - 1000 / c.slowMs);
  const fillSeconds = excess > 0 ? 4e6 / (excess * c.payloadBytes) : Infinity;
  return [
    `Two servers from this checkout: --mode naive and --mode queue (the default). Each gets, at the same time:`,
    `  ${c.rate} msgs/s of ${
      fmtBytes(c.payloadBytes)
    } for ${c.durationSeconds} s, to 3 fast clients and 1 slow client that ${slow} (raw TCP).`,
    `A sender only notices a slow reader once the kernel's socket buffers (~4 MB on loopback) are full.`,
    `At ${fmtBytes(excess * c.payloadBytes)}/s of backlog that takes about ${
      Number.isFinite(fillSeconds) ? fmtNum(fillSeconds) : "forever"
    } s, which is why the messages are ${
      fmtBytes(c.payloadBytes)
    }: with 1 KB ones it would take minutes.`,
    "",
  ].join("\n");
}

async function main(args: string[]): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        seconds: { type: "string", default: "15" },
        rate: { type: "string", default: "50" },
        "payload-bytes": { type: "string", default: "20KB" },
        "slow-ms": { type: "string", default: "100" },
        stall: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`demo: ${(err as Error).message}. Run with --help.`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const payloadBytes = parseByteSize(values["payload-bytes"]);
  const numbers = [Number(values.seconds), Number(values.rate), Number(values["slow-ms"])];
  if (payloadBytes === undefined || numbers.some((n) => !(n > 0))) {
    console.error(
      "demo: --seconds, --rate, --slow-ms must be > 0 and --payload-bytes a size (20KB)",
    );
    return 2;
  }
  const [seconds, rate, slowMs] = numbers;
  const config: LoadConfig = {
    ...defaultConfig(),
    publishers: 1,
    rate,
    subscribers: 4,
    slow: 1,
    slowMs,
    stall: values.stall,
    payloadBytes,
    durationSeconds: seconds,
    warmupSeconds: 1,
    settleMs: 1000,
  };
  console.log(explain(config));

  const servers: ServerProcess[] = [];
  let results: LoadResult[];
  try {
    const flags = ["--log-level", "warn", ...positionals];
    servers.push(
      ...await Promise.all([
        spawnServer(["--mode", "naive", ...flags]),
        spawnServer(["--mode", "queue", ...flags]),
      ]),
    );
    const shown = { naive: -1, queue: -1 };
    const onProgress = (mode: "naive" | "queue") => (p: RunProgress) => {
      const pt = p.point;
      if (p.phase !== "measuring" || !pt || Math.floor(pt.t / 3) === shown[mode]) return;
      shown[mode] = Math.floor(pt.t / 3);
      const fast = pt.measured > 0
        ? `fast clients ${fmtNum(pt.perClientPerSec)} msgs/s, p99 ${fmtMs(pt.p99)} ms`
        : "fast clients received nothing";
      const slow = pt.slowMeasured > 0 ? `; slow p99 ${fmtMs(pt.slowP99)} ms` : "";
      console.log(`  ${mode.padEnd(5)} ${pt.t.toFixed(0).padStart(3)} s: ${fast}${slow}`);
    };
    results = await Promise.all(
      (["naive", "queue"] as const).map((mode, i) =>
        runLoad({ ...config, url: servers[i].url }, {
          scenario: `demo-${mode}`,
          spawned: { flags: ["--mode", mode, ...flags] },
          onProgress: onProgress(mode),
        })
      ),
    );
  } catch (err) {
    console.error(`demo: ${(err as Error).message}`);
    return 2;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const [naive, queue] = results.map(demoSide);
  console.log("");
  console.log(demoTable(naive, queue));
  console.log("");
  console.log(demoVerdict(naive, queue));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
