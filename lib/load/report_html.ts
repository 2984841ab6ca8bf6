/**
 * `--report report.html`: one self-contained HTML file with the run's figures
 * and inline-SVG charts (latency and throughput over time, server memory and
 * CPU, the latency percentile spectrum, per-client distribution). No script,
 * no external resource: it renders offline. The full result is embedded as
 * JSON for later analysis.
 *
 * @module
 */
import { fmtBytes, fmtCloses, fmtMs, fmtNum, fmtPct } from "./format.ts";
import type { ClientResult, LoadResult, TimelinePoint } from "./load_result.ts";
import { capacityRows, clientRows } from "./report_rows.ts";
import { describeLoad } from "./report_text.ts";
import type { SequenceCounts } from "./sequence_checker.ts";
import { type Bar, barChart, escapeXml, lineChart, type Tick } from "./svg_chart.ts";

const FAST = "#2563eb", SLOW = "#ea580c", MAX = "#9ca3af", GOOD = "#16a34a", ALT = "#7c3aed";
const MAX_BARS = 120;
const MAX_CLIENT_ROWS = 500;

/** x position of a percentile on a "nines" axis: 90 → 1, 99 → 2, 99.9 → 3. */
function nines(pct: number): number {
  return -Math.log10(Math.max(1e-5, 1 - pct / 100));
}

const NINES_TICKS: Tick[] = [
  { value: 0, label: "0%" },
  { value: nines(50), label: "50%" },
  { value: 1, label: "90%" },
  { value: 2, label: "99%" },
  { value: 3, label: "99.9%" },
  { value: 4, label: "99.99%" },
  { value: 5, label: "max" },
];

function card(label: string, value: string, bad = false): string {
  return `<div class="card${bad ? " bad" : ""}"><div class="v">${
    escapeXml(value)
  }</div><div class="l">${escapeXml(label)}</div></div>`;
}

/** An HTML table; the first row is the header. */
function table([head, ...rows]: string[][]): string {
  const th = head.map((h) => `<th>${escapeXml(h)}</th>`).join("");
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`);
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs.join("")}</tbody></table>`;
}

function countsRow(name: string, c: SequenceCounts): string[] {
  return [
    name,
    fmtNum(c.delivered),
    fmtNum(c.gapped),
    fmtNum(c.missing),
    fmtNum(c.duplicates),
    fmtNum(c.outOfOrder),
    fmtNum(c.undelivered),
  ];
}

function timelineCharts(r: LoadResult): string[] {
  const t = r.timeline;
  // An interval in which nothing arrived has no latency: leave a hole, not a 0.
  const fast = (f: (p: TimelinePoint) => number) =>
    t.map((p) => [p.t, p.measured > 0 ? f(p) : NaN] as const);
  const charts = [
    lineChart({
      title: "Fast clients' latency over time (per sample interval)",
      xLabel: "seconds into the measured window",
      yLabel: "ms",
      yFormat: (y) => fmtMs(y),
      series: [
        { name: "fast p50", color: GOOD, points: fast((p) => p.p50) },
        { name: "fast p99", color: FAST, points: fast((p) => p.p99) },
        { name: "fast max", color: MAX, dashed: true, points: fast((p) => p.max) },
      ],
    }),
    ...(r.slowClients.count > 0
      ? [lineChart({
        title: "Slow clients' latency over time",
        xLabel: "seconds into the measured window",
        yLabel: "ms",
        yFormat: (y) => fmtMs(y),
        series: [{
          name: "slow p99",
          color: SLOW,
          points: t.map((p) => [p.t, p.slowMeasured > 0 ? p.slowP99 : NaN]),
        }],
      })]
      : []),
    lineChart({
      title: "Throughput over time",
      xLabel: "seconds into the measured window",
      yLabel: "messages/s",
      series: [
        { name: "published/s", color: ALT, points: t.map((p) => [p.t, p.publishedPerSec]) },
        { name: "per fast client/s", color: FAST, points: t.map((p) => [p.t, p.perClientPerSec]) },
        {
          name: "expected/client",
          color: MAX,
          dashed: true,
          points: t.map((p) => [p.t, r.throughput.expectedPerClient]),
        },
      ],
    }),
  ];
  if (r.server.available) {
    charts.push(lineChart({
      title: "Server memory and CPU (from /metrics)",
      xLabel: "seconds into the measured window",
      yLabel: "RSS MB / CPU %",
      series: [
        { name: "RSS MB", color: ALT, points: t.map((p) => [p.t, (p.rssBytes ?? NaN) / 1e6]) },
        { name: "CPU % of a core", color: SLOW, points: t.map((p) => [p.t, p.cpuPercent ?? NaN]) },
      ],
    }));
  }
  if (t.some((p) => p.subscribers !== t[0].subscribers)) {
    charts.push(lineChart({
      title: "Subscribers connected",
      xLabel: "seconds into the measured window",
      yLabel: "subscribers",
      series: [{ name: "subscribers", color: FAST, points: t.map((p) => [p.t, p.subscribers]) }],
    }));
  }
  return charts;
}

function clientCharts(clients: ClientResult[]): string[] {
  const color = (c: ClientResult) => c.mode === "fast" ? FAST : SLOW;
  if (clients.length <= MAX_BARS) {
    const bars = (f: (c: ClientResult) => number): Bar[] =>
      clients.map((c) => ({ label: `#${c.index}`, value: f(c), color: color(c) }));
    return [
      barChart(
        "p99 latency per client (orange: slow)",
        "client",
        "ms",
        bars((c) => c.latency.p99),
        fmtMs,
      ),
      barChart(
        "Messages/s per client (orange: slow)",
        "client",
        "msgs/s",
        bars((c) => c.msgsPerSec),
        fmtNum,
      ),
    ];
  }
  const sorted = (f: (c: ClientResult) => number) =>
    clients.map(f).sort((a, b) => a - b).map((v, i) =>
      [i / (clients.length - 1) * 100, v] as const
    );
  return [
    lineChart({
      title: `p99 latency per client, ${clients.length} clients sorted`,
      xLabel: "% of clients",
      yLabel: "ms",
      yFormat: fmtMs,
      series: [{ name: "client p99", color: FAST, points: sorted((c) => c.latency.p99) }],
    }),
    lineChart({
      title: `Messages/s per client, ${clients.length} clients sorted`,
      xLabel: "% of clients",
      yLabel: "msgs/s",
      series: [{ name: "client msgs/s", color: FAST, points: sorted((c) => c.msgsPerSec) }],
    }),
  ];
}

/**
 * The HTML report of a run.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile("report.html", renderHtmlReport(result));
 * ```
 */
export function renderHtmlReport(r: LoadResult): string {
  const title = `Floodgate load test: ${r.scenario ?? "custom run"}`;
  const l = r.latency.fast;
  const c = r.correctness;
  const cards = [
    card("fast p50", `${fmtMs(l.p50)} ms`),
    card("fast p99", `${fmtMs(l.p99)} ms`),
    card("fast p99.9", `${fmtMs(l.p999)} ms`),
    card("fast max", `${fmtMs(l.max)} ms`),
    card(
      "msgs/s per fast client (expected)",
      `${fmtNum(r.throughput.fastPerClient.avg)} (${fmtNum(r.throughput.expectedPerClient)})`,
    ),
    card(
      "missing / duplicates / out of order",
      `${c.all.missing} / ${c.all.duplicates} / ${c.all.outOfOrder}`,
      c.all.missing + c.all.duplicates + c.all.outOfOrder > 0,
    ),
    card("connections ok", `${r.connect.connected}/${r.connect.attempted}`, r.connect.failed > 0),
    card("server RSS max", fmtBytes(r.server.rssMaxBytes)),
    card("server CPU avg", fmtPct(r.server.cpuAvgPercent)),
  ];
  const spectrum = lineChart({
    title: "Latency percentile spectrum (fast clients, whole window)",
    xLabel: "percentile",
    yLabel: "ms",
    xTicks: NINES_TICKS,
    xFormat: (x) =>
      NINES_TICKS.find((t) => Math.abs(t.value - x) < 0.01)?.label ??
        `${fmtNum(100 - 100 * 10 ** -x)}%`,
    yFormat: fmtMs,
    series: [{
      name: "latency",
      color: FAST,
      points: r.latency.spectrum.map(([pct, ms]) => [pct === 100 ? 5 : nines(pct), ms] as const),
    }],
  });
  const kindRows = Object.entries(r.latency.byKind).map(([kind, k]) => [
    kind,
    fmtNum(k.count),
    fmtMs(k.p50),
    fmtMs(k.p95),
    fmtMs(k.p99),
    fmtMs(k.p999),
    fmtMs(k.max),
  ]);
  const countsHead = [
    "",
    "delivered",
    "gapped",
    "missing",
    "duplicates",
    "out of order",
    "undelivered",
  ];
  const countRows = [
    countsRow("fast clients", c.fast),
    ...(r.slowClients.count > 0 ? [countsRow("slow clients", c.slow)] : []),
    ...Object.entries(c.byTopic).map(([topic, t]) => countsRow(`topic ${topic}`, t)),
  ];
  const capacity = r.capacity
    ? `<h2>Capacity ramp</h2><p>${escapeXml(r.capacity.verdict)}</p>${
      table(capacityRows(r.capacity))
    }`
    : "";
  const json = JSON.stringify(r).replaceAll("<", "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1480px;padding:0 16px;color:#111}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
pre.meta{background:#f6f6f6;padding:10px;font-size:12px;white-space:pre-wrap;margin:8px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}
.card .v{font-size:20px;font-weight:600}.card .l{font-size:11px;color:#555}.card.bad{border-color:#dc2626;background:#fef2f2}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(720px,1fr));gap:12px}
.charts svg{border:1px solid #eee;border-radius:6px;background:#fff;max-width:100%;height:auto}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #e5e5e5;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}thead{background:#f6f6f6}.notes li{margin:4px 0}
</style></head><body>
<h1>${escapeXml(title)}</h1>
<pre class="meta">${escapeXml(describeLoad(r).join("\n"))}</pre>
<div class="cards">${cards.join("")}</div>
${
    r.notes.length > 0
      ? `<ul class="notes">${r.notes.map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul>`
      : ""
  }
<h2>Over time</h2><div class="charts">${timelineCharts(r).join("\n")}</div>
<h2>Distribution</h2><div class="charts">${spectrum}\n${clientCharts(r.clients).join("\n")}</div>
${capacity}
<h2>Latency by message kind (ms, all clients)</h2>
${table([["kind", "messages", "p50", "p95", "p99", "p99.9", "max"], ...kindRows])}
<h2>Correctness</h2>
${table([countsHead, ...countRows])}
<p>Closes the clients read: ${escapeXml(fmtCloses(r.closes))}; connections the server saw end: ${
    escapeXml(fmtCloses(r.server.disconnects ?? {}))
  }. Slow clients: ${r.slowClients.count}${
    r.slowClients.count > 0
      ? `, server dropped ${fmtNum(r.slowClients.serverDropped)}, coalesced ${
        fmtNum(r.slowClients.serverCoalesced)
      }`
      : ""
  }. Connect avg ${fmtMs(r.connect.avgMs)} ms, max ${fmtMs(r.connect.maxMs)} ms. Wire: received ${
    fmtBytes(r.wire.receivedBytes)
  } in ${fmtNum(r.wire.receivedFrames)} frames; published ${fmtBytes(r.wire.publishedBytes)}.</p>
<h2>Per client</h2>
${table(clientRows(r.clients, MAX_CLIENT_ROWS))}
${
    r.clients.length > MAX_CLIENT_ROWS
      ? `<p>… and ${r.clients.length - MAX_CLIENT_ROWS} more in the JSON below.</p>`
      : ""
  }
<script type="application/json" id="result">${json}</script>
</body></html>
`;
}
