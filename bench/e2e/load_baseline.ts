/**
 * The load tester's baseline matrix for BENCHMARKS.md: each scenario preset
 * against a fresh server per delivery mode (immediate queues, `--flush-ms 250`,
 * naive), the modes of one scenario run back to back, one Markdown table out.
 *
 * ```sh
 * deno task bench:load                                   # the five session scenarios and the four room presets
 * deno task bench:load --scenarios light,heavy --duration 5 --json baseline.json
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fmtBytes, fmtMs, fmtNum } from "../../lib/load/format.ts";
import { defaultConfig } from "../../lib/load/load_config.ts";
import type { LoadResult } from "../../lib/load/load_result.ts";
import { runLoad } from "../../lib/load/load_run.ts";
import { scenario } from "../../lib/load/scenarios.ts";
import { spawnServer } from "../../lib/load/server_process.ts";

const MODES: Record<string, string[]> = {
  immediate: [],
  "flush-250": ["--flush-ms", "250"],
  naive: ["--mode", "naive"],
};

const DEFAULT_SCENARIOS = [
  "sessions-5x2x1",
  "sessions-10x3x1",
  "sessions-15x5x1",
  "sessions-10x3x3",
  "sessions-20x5x5",
  "light",
  "medium",
  "heavy",
  "stress",
];

function row(name: string, mode: string, r: LoadResult): string {
  const l = r.latency.fast;
  const c = r.correctness.all;
  return `| ${name} | ${mode} | ${fmtMs(l.p50)} | ${fmtMs(l.p95)} | ${fmtMs(l.p99)} | ${
    fmtMs(l.max)
  } | ${fmtNum(r.throughput.fastPerClient.avg)} / ${fmtNum(r.throughput.expectedPerClient)} | ${
    fmtNum(r.wire.messagesPerFrame)
  } | ${fmtBytes(r.server.rssMaxBytes)} | ${fmtNum(r.server.cpuAvgPercent)} | ${
    fmtNum(c.delivered)
  } | ${fmtNum(c.gapped)} | ${c.missing} / ${c.duplicates} / ${c.outOfOrder} / ${c.undelivered} |`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scenarios: { type: "string", default: DEFAULT_SCENARIOS.join(",") },
      modes: { type: "string", default: Object.keys(MODES).join(",") },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      json: { type: "string" },
    },
  });
  const lines = [
    "| scenario | mode | p50 ms | p95 ms | p99 ms | max ms | msgs/s per client (got / expected) | msgs per frame | server RSS max | server CPU % | delivered | gapped | missing / dup / out of order / undelivered |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const all: Record<string, Record<string, LoadResult>> = {};
  for (const name of values.scenarios!.split(",")) {
    all[name] = {};
    for (const mode of values.modes!.split(",")) {
      const flags = MODES[mode];
      if (!flags) throw new RangeError(`Unknown mode "${mode}"; known: ${Object.keys(MODES)}`);
      const server = await spawnServer(["--log-level", "warn", ...flags]);
      try {
        console.error(`${name}, ${mode}…`);
        const r = await runLoad({
          ...defaultConfig(),
          ...scenario(name).config,
          url: server.url,
          durationSeconds: Number(values.duration),
          warmupSeconds: Number(values.warmup),
        }, { scenario: name, spawned: { flags } });
        all[name][mode] = r;
        lines.push(row(name, mode, r));
        console.error(`  ${lines.at(-1)}`);
      } finally {
        await server.stop();
      }
    }
  }
  console.log(lines.join("\n"));
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(all, null, 2));
}
