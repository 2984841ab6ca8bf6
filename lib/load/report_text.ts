/**
 * The readable summary a load run prints at the end.
 *
 * @module
 */
import { fmtBytes, fmtCloses, fmtMs, fmtNum, fmtPct, textTable } from "./format.ts";
import type { LatencySummary } from "./latency_histogram.ts";
import type { LoadResult } from "./load_result.ts";
import { capacityRows, clientRows } from "./report_rows.ts";
import type { SequenceCounts } from "./sequence_checker.ts";

const MAX_CLIENT_ROWS = 20;

function latencyLine(l: LatencySummary): string {
  return l.count === 0
    ? "no messages measured"
    : `p50 ${fmtMs(l.p50)}  p95 ${fmtMs(l.p95)}  p99 ${fmtMs(l.p99)}  p99.9 ${fmtMs(l.p999)}  max ${
      fmtMs(l.max)
    }  (${fmtNum(l.count)} messages)`;
}

function countsLine(c: SequenceCounts): string {
  return `delivered ${fmtNum(c.delivered)}, gapped ${fmtNum(c.gapped)}, missing ${
    fmtNum(c.missing)
  }, duplicates ${fmtNum(c.duplicates)}, out of order ${fmtNum(c.outOfOrder)}, undelivered ${
    fmtNum(c.undelivered)
  }`;
}

/** Describes what the run did, in one paragraph. */
export function describeLoad(r: LoadResult): string[] {
  const c = r.config;
  const slow = c.slow === 0
    ? "all fast"
    : c.stall
    ? `${c.slow} stalled`
    : `${c.slow} slow (${c.slowMs} ms/msg${c.jitterMs ? ` ± ${c.jitterMs}` : ""})`;
  const payload = c.payload === "session" ? "session updates" : `${fmtBytes(c.payloadBytes)} pad`;
  const large = c.largeBytes > 0 ? ` + ${fmtBytes(c.largeBytes)} tab trees ${c.largeRate}/s` : "";
  const subs = c.ramp
    ? `ramp +${c.ramp.step} subscribers every ${c.ramp.stageSeconds} s (max ${c.ramp.maxClients})`
    : `${c.subscribers} subscribers (${slow})`;
  const flags = r.target.spawned
    ? ` (spawned: ${r.target.serverFlags.join(" ") || "defaults"})`
    : "";
  return [
    `Target    ${r.target.url}${flags}; mode ${r.target.mode ?? "?"}, engine ${
      r.target.engine ?? "?"
    }, bus ${r.target.bus ?? "?"}`,
    `Machine   ${r.machine.cores} × ${
      r.machine.cpuModel ?? "CPU"
    }, ${r.machine.os}, Deno ${r.machine.deno}`,
    `Load      ${c.publishers} publishers × ${c.rate}/s over ${c.publishOver}${large}, ${payload}; ${subs}; ${c.topics} topic(s)`,
    `Time      ${
      fmtNum(r.measuredSeconds)
    } s measured after ${c.warmupSeconds} s warm-up, started ${r.startedAt}`,
  ];
}

/**
 * The end-of-run summary as plain text.
 *
 * @example
 * ```ts ignore
 * console.log(formatReport(await runLoad(config)));
 * ```
 */
export function formatReport(r: LoadResult): string {
  const lines: string[] = [];
  const title = r.scenario ? `scenario ${r.scenario}` : "custom run";
  lines.push(`Floodgate load test: ${title}`, ...describeLoad(r), "");

  lines.push(
    `Connections  ${r.connect.connected}/${r.connect.attempted} (${
      fmtPct(r.connect.successRate)
    }), connect avg ${fmtMs(r.connect.avgMs)} ms, max ${fmtMs(r.connect.maxMs)} ms${
      r.connect.firstError ? `; first error: ${r.connect.firstError}` : ""
    }`,
  );
  lines.push(
    `Publishing   ${fmtNum(r.publish.accepted)} accepted of ${fmtNum(r.publish.sent)} sent (${
      fmtNum(r.publish.acceptedPerSec)
    }/s of ${
      fmtNum(r.publish.offeredPerSec)
    }/s offered), failed ${r.publish.failed}, skipped ${r.publish.skipped}; round trip p50 ${
      fmtMs(r.publish.requestMs.p50)
    } ms, p99 ${fmtMs(r.publish.requestMs.p99)} ms`,
  );
  const from = r.latency.from === "sentAt" ? "publisher send → receipt" : "server ts → receipt";
  lines.push(`Latency ms   fast clients (${from}): ${latencyLine(r.latency.fast)}`);
  if (r.slowClients.count > 0) {
    lines.push(`             slow clients: ${latencyLine(r.latency.slow)}`);
  }
  const kinds = Object.entries(r.latency.byKind);
  if (kinds.length > 1) {
    for (const [kind, l] of kinds) lines.push(`             ${kind} messages: ${latencyLine(l)}`);
  }
  const t = r.throughput;
  lines.push(
    `Throughput   expected ${fmtNum(t.expectedPerClient)} msgs/s per client; fast clients avg ${
      fmtNum(t.fastPerClient.avg)
    } (min ${fmtNum(t.fastPerClient.min)}, max ${fmtNum(t.fastPerClient.max)})${
      r.slowClients.count > 0 ? `; slow clients avg ${fmtNum(t.slowPerClient.avg)}` : ""
    }; total ${fmtNum(t.totalPerSec)} msgs/s`,
  );
  lines.push(`Correctness  fast: ${countsLine(r.correctness.fast)}`);
  if (r.slowClients.count > 0) lines.push(`             slow: ${countsLine(r.correctness.slow)}`);
  if (Object.keys(r.correctness.byTopic).length > 1) {
    for (const [topic, c] of Object.entries(r.correctness.byTopic)) {
      lines.push(`             ${topic}: ${countsLine(c)}`);
    }
  }
  if (r.slowClients.count > 0) {
    const s = r.slowClients;
    lines.push(
      `Slow clients ${s.count} ${s.mode}: received ${fmtNum(s.messages)}, told of ${
        fmtNum(s.gapped)
      } skipped seqs; server dropped ${fmtNum(s.serverDropped)}, coalesced ${
        fmtNum(s.serverCoalesced)
      }; closes ${fmtCloses(s.closes)}`,
    );
  }
  const sv = r.server;
  lines.push(
    sv.available
      ? `Server       RSS ${fmtBytes(sv.rssStartBytes)} → max ${fmtBytes(sv.rssMaxBytes)} (end ${
        fmtBytes(sv.rssEndBytes)
      }); CPU avg ${fmtPct(sv.cpuAvgPercent)} (max ${
        fmtPct(sv.cpuMaxPercent)
      }) of one core; delivered ${fmtNum(sv.delivered)}, sent ${fmtBytes(sv.bytesSent)}, dropped ${
        fmtNum(sv.dropped)
      }, coalesced ${fmtNum(sv.coalesced)}; connections ended ${fmtCloses(sv.disconnects ?? {})}`
      : `Server       metrics unavailable (${sv.error ?? "no answer"})`,
  );
  lines.push(
    `Wire         received ${fmtBytes(r.wire.receivedBytes)} in ${
      fmtNum(r.wire.receivedFrames)
    } frames (${r.wire.messagesPerFrame.toFixed(2)} msgs/frame); published ${
      fmtBytes(r.wire.publishedBytes)
    }`,
  );
  lines.push(`Closes       ${fmtCloses(r.closes)} (close frames the clients read)`);
  lines.push(`Tester CPU   ${fmtPct(r.testerCpuPercent)} of one core`);

  if (r.capacity) {
    lines.push("", `Capacity ramp: ${r.capacity.verdict}`);
    lines.push(textTable(capacityRows(r.capacity)));
  }

  lines.push("", "Per client:");
  lines.push(textTable(clientRows(r.clients, MAX_CLIENT_ROWS)));
  if (r.clients.length > MAX_CLIENT_ROWS) {
    lines.push(`… and ${r.clients.length - MAX_CLIENT_ROWS} more (see --json or --report)`);
  }
  if (r.notes.length > 0) lines.push("", ...r.notes.map((n) => `Note: ${n}`));
  return lines.join("\n");
}
