/**
 * The rows of the per-client and capacity tables, shared by the text table and
 * the HTML report (header row first).
 *
 * @module
 */
import type { CapacityResult } from "./capacity_ramp.ts";
import { fmtBytes, fmtMs, fmtNum } from "./format.ts";
import type { ClientResult } from "./load_result.ts";

/** One row per client, up to `limit` clients. */
export function clientRows(clients: readonly ClientResult[], limit: number): string[][] {
  return [
    [
      "client",
      "id",
      "connect ms",
      "msgs",
      "msgs/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "gapped",
      "missing",
      "dup",
      "ooo",
      "undelivered",
      "srv dropped/coalesced",
      "close",
    ],
    ...clients.slice(0, limit).map((c) => [
      `#${c.index} ${c.mode}`,
      c.clientId ?? "-",
      fmtMs(c.connectMs),
      fmtNum(c.messages),
      fmtNum(c.msgsPerSec),
      fmtMs(c.latency.p50),
      fmtMs(c.latency.p99),
      fmtMs(c.latency.max),
      fmtNum(c.counts.gapped),
      fmtNum(c.counts.missing),
      fmtNum(c.counts.duplicates),
      fmtNum(c.counts.outOfOrder),
      fmtNum(c.counts.undelivered),
      c.server ? `${c.server.dropped}/${c.server.coalesced}` : "-",
      c.close ? `${c.close.code} ${c.close.reason}`.trim() : "-",
    ]),
  ];
}

/** One row per capacity stage. */
export function capacityRows(capacity: CapacityResult): string[][] {
  return [
    [
      "subscribers",
      "p50 ms",
      "p99 ms",
      "max ms",
      "msgs/s/client",
      "connect failed",
      "server CPU %",
      "server RSS",
      "verdict",
    ],
    ...capacity.stages.map((s) => [
      String(s.clients),
      fmtMs(s.p50),
      fmtMs(s.p99),
      fmtMs(s.max),
      fmtNum(s.perClientPerSec),
      `${s.connectFailed}/${s.connectAttempted}`,
      fmtNum(s.cpuPercent),
      fmtBytes(s.rssBytes),
      s.ok ? "ok" : s.reason ?? "over",
    ]),
  ];
}
