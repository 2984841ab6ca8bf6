/**
 * Small inline-SVG charts (lines and bars) for the HTML report: no script, no
 * fonts, no network, so the report renders anywhere, offline. Each point
 * carries a `<title>`, which browsers show as a tooltip.
 *
 * @module
 */

/** One line of a line chart. */
export interface Series {
  name: string;
  /** `[x, y]` pairs, x ascending. */
  points: readonly (readonly [number, number])[];
  color: string;
  dashed?: boolean;
}

/** A tick placed by hand (e.g. percentiles on a "nines" axis). */
export interface Tick {
  value: number;
  label: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Label of a y value (default: compact number). */
  yFormat?: (y: number) => string;
  /** Ticks on the x axis (default: five even ones). */
  xTicks?: readonly Tick[];
  /** Label of an x value in tooltips. */
  xFormat?: (x: number) => string;
  width?: number;
  height?: number;
}

/** One bar of a bar chart. */
export interface Bar {
  label: string;
  value: number;
  color: string;
}

const PAD = { left: 64, right: 16, top: 48, bottom: 44 };
/** Series with more points than this are drawn as a plain line, without point markers. */
const MAX_MARKERS = 200;

/** Escapes text for HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * Five "nice" tick values from 0 (or `min`) to at least `max`.
 *
 * @example
 * ```ts
 * import { niceTicks } from "./svg_chart.ts";
 * niceTicks(0, 87); // [0, 20, 40, 60, 80, 100]
 * ```
 */
export function niceTicks(min: number, max: number): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function compact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${Number((n / 1e9).toPrecision(3))}G`;
  if (a >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((n / 1e3).toPrecision(3))}k`;
  return String(Number(n.toPrecision(3)));
}

function frame(
  o: { title: string; xLabel: string; yLabel: string; width: number; height: number },
  body: string,
): string {
  const { width: w, height: h } = o;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${
    escapeXml(o.title)
  }" font-family="system-ui, sans-serif" font-size="11">
<text x="${PAD.left}" y="18" font-size="13" font-weight="600">${escapeXml(o.title)}</text>
<text x="${PAD.left + (w - PAD.left - PAD.right) / 2}" y="${
    h - 6
  }" text-anchor="middle" fill="#555">${escapeXml(o.xLabel)}</text>
<text transform="translate(14 ${
    PAD.top + (h - PAD.top - PAD.bottom) / 2
  }) rotate(-90)" text-anchor="middle" fill="#555">${escapeXml(o.yLabel)}</text>
${body}
</svg>`;
}

/** Horizontal grid lines with their y labels. */
function yGrid(
  ticks: readonly number[],
  sy: (y: number) => number,
  width: number,
  format: (y: number) => string,
): string[] {
  return ticks.map((t) =>
    `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${sy(t)}" y2="${
      sy(t)
    }" stroke="#e5e5e5"/><text x="${PAD.left - 6}" y="${sy(t) + 4}" text-anchor="end" fill="#555">${
      escapeXml(format(t))
    }</text>`
  );
}

/**
 * A line chart with axes, grid, legend and point tooltips.
 *
 * @example
 * ```ts
 * import { lineChart } from "./svg_chart.ts";
 * const svg = lineChart({
 *   title: "p99",
 *   xLabel: "s",
 *   yLabel: "ms",
 *   series: [{ name: "p99", color: "#c00", points: [[1, 3], [2, 4]] }],
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 720, height = o.height ?? 260;
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).filter((y) => Number.isFinite(y));
  const xTicks = o.xTicks ??
    niceTicks(Math.min(0, ...xs), Math.max(1, ...xs)).map((v) => ({ value: v, label: compact(v) }));
  const x0 = Math.min(...xTicks.map((t) => t.value)), x1 = Math.max(...xTicks.map((t) => t.value));
  const yTicks = niceTicks(0, Math.max(0, ...ys) || 1);
  const y1 = yTicks.at(-1)!;
  const plotW = width - PAD.left - PAD.right, plotH = height - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => PAD.top + plotH - (Math.min(y, y1) / y1) * plotH;
  const yFormat = o.yFormat ?? compact;
  const xFormat = o.xFormat ?? compact;
  const parts: string[] = [];
  parts.push(...yGrid(yTicks, sy, width, yFormat));
  for (const t of xTicks) {
    parts.push(
      `<line x1="${sx(t.value)}" x2="${sx(t.value)}" y1="${PAD.top + plotH}" y2="${
        PAD.top + plotH + 4
      }" stroke="#999"/><text x="${sx(t.value)}" y="${
        PAD.top + plotH + 16
      }" text-anchor="middle" fill="#555">${escapeXml(t.label)}</text>`,
    );
  }
  parts.push(
    `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${PAD.top + plotH}" y2="${
      PAD.top + plotH
    }" stroke="#999"/>`,
  );
  o.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length > 0) {
      const d = pts.map((p, k) =>
        `${k === 0 ? "M" : "L"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`
      )
        .join("");
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${
          s.dashed ? ' stroke-dasharray="5 4"' : ""
        }/>`,
      );
      for (const p of pts.length <= MAX_MARKERS ? pts : []) {
        parts.push(
          `<circle cx="${sx(p[0]).toFixed(1)}" cy="${
            sy(p[1]).toFixed(1)
          }" r="2.2" fill="${s.color}"><title>${
            escapeXml(`${s.name} at ${xFormat(p[0])}: ${yFormat(p[1])}`)
          }</title></circle>`,
        );
      }
    }
    const lx = PAD.left + 8 + i * 130;
    parts.push(
      `<rect x="${lx}" y="${PAD.top - 17}" width="10" height="3" fill="${s.color}"/><text x="${
        lx + 14
      }" y="${PAD.top - 13}">${escapeXml(s.name)}</text>`,
    );
  });
  return frame({ ...o, width, height }, parts.join("\n"));
}

/**
 * A bar chart, one bar per item, with its label as a tooltip.
 *
 * @example
 * ```ts
 * import { barChart } from "./svg_chart.ts";
 * barChart("p99 per client", "client", "ms", [{ label: "#0", value: 3, color: "#36c" }]);
 * ```
 */
export function barChart(
  title: string,
  xLabel: string,
  yLabel: string,
  bars: readonly Bar[],
  yFormat: (y: number) => string = compact,
  width = 720,
  height = 240,
): string {
  const yTicks = niceTicks(0, Math.max(0, ...bars.map((b) => b.value)) || 1);
  const y1 = yTicks.at(-1)!;
  const plotW = width - PAD.left - PAD.right, plotH = height - PAD.top - PAD.bottom;
  const sy = (y: number) => PAD.top + plotH - (y / y1) * plotH;
  const slot = plotW / Math.max(1, bars.length);
  const parts: string[] = [];
  parts.push(...yGrid(yTicks, sy, width, yFormat));
  const labelEvery = Math.ceil(bars.length / 20);
  bars.forEach((b, i) => {
    const x = PAD.left + i * slot + slot * 0.1;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${sy(b.value).toFixed(1)}" width="${
        Math.max(0.5, slot * 0.8).toFixed(1)
      }" height="${(PAD.top + plotH - sy(b.value)).toFixed(1)}" fill="${b.color}"><title>${
        escapeXml(`${b.label}: ${yFormat(b.value)}`)
      }</title></rect>`,
    );
    if (i % labelEvery === 0) {
      parts.push(
        `<text x="${(x + slot * 0.4).toFixed(1)}" y="${
          PAD.top + plotH + 14
        }" text-anchor="middle" fill="#555">${escapeXml(b.label)}</text>`,
      );
    }
  });
  return frame({ title, xLabel, yLabel, width, height }, parts.join("\n"));
}
