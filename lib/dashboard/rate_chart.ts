/// <reference lib="dom" />
/**
 * A small canvas chart of the last minutes: delivery rate (filled, left scale)
 * and latency (lines, right scale: server queue delay p99 and page lag p99).
 *
 * @module
 */
import { formatCount, formatMs } from "./format.ts";
import type { View } from "./render_scheduler.ts";

/** One point of the chart. */
export interface ChartPoint {
  /** Epoch ms. */
  t: number;
  deliveriesPerSec: number;
  queueDelayP99: number;
  lagP99: number;
}

/** Draws the chart into a canvas, as a View. */
export class RateChart implements View {
  readonly #canvas: HTMLCanvasElement;
  readonly #windowMs: number;
  readonly #points: ChartPoint[] = [];
  #dirty = true;
  #size = "";

  /** @param windowMs how much history the chart shows. */
  constructor(canvas: HTMLCanvasElement, windowMs = 5 * 60_000) {
    this.#canvas = canvas;
    this.#windowMs = windowMs;
  }

  /** Adds a point (and forgets those older than the window). */
  push(p: ChartPoint): void {
    this.#points.push(p);
    const cutoff = p.t - this.#windowMs;
    while (this.#points.length > 0 && this.#points[0].t < cutoff) this.#points.shift();
    this.#dirty = true;
  }

  /** Redraw on the next pass (resize, theme change). */
  invalidate(): void {
    this.#dirty = true;
  }

  render(): void {
    const canvas = this.#canvas;
    const ratio = canvas.ownerDocument.defaultView?.devicePixelRatio ?? 1;
    const w = canvas.clientWidth;
    const hgt = canvas.clientHeight;
    const size = `${w}x${hgt}@${ratio}`;
    if (!this.#dirty && size === this.#size) return;
    this.#dirty = false;
    if (size !== this.#size) {
      this.#size = size;
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(hgt * ratio);
    }
    const ctx = canvas.getContext("2d");
    if (!ctx || w === 0 || hgt === 0) return;
    const css = getComputedStyle(canvas);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = color("--muted", "#888");
    const grid = color("--grid", "rgba(128,128,128,.2)");
    const rateColor = color("--accent", "#4f8cff");
    const delayColor = color("--warn", "#e0a030");
    const lagColor = color("--pink", "#d0509a");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const pad = { l: 44, r: 52, t: 8, b: 18 };
    const pw = w - pad.l - pad.r;
    const ph = hgt - pad.t - pad.b;
    const pts = this.#points;
    const now = pts.length > 0 ? pts[pts.length - 1].t : Date.now();
    const x = (t: number) => pad.l + pw * (1 - (now - t) / this.#windowMs);
    const maxRate = niceMax(Math.max(1, ...pts.map((p) => p.deliveriesPerSec)));
    const maxLat = niceMax(Math.max(1, ...pts.map((p) => Math.max(p.queueDelayP99, p.lagP99))));
    ctx.font = "11px ui-sans-serif, system-ui, sans-serif";
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + (ph * i) / 4;
      ctx.strokeStyle = grid;
      ctx.beginPath();
      ctx.moveTo(pad.l, y + 0.5);
      ctx.lineTo(pad.l + pw, y + 0.5);
      ctx.stroke();
      ctx.fillStyle = fg;
      ctx.textAlign = "right";
      ctx.fillText(formatCount(maxRate * (1 - i / 4)), pad.l - 6, y + 4);
      ctx.textAlign = "left";
      ctx.fillText(formatMs(maxLat * (1 - i / 4)), pad.l + pw + 6, y + 4);
    }
    ctx.textAlign = "center";
    for (let m = 0; m * 60_000 <= this.#windowMs; m++) {
      ctx.fillText(m === 0 ? "now" : `-${m}m`, x(now - m * 60_000), hgt - 4);
    }
    if (pts.length < 2) return;
    const yRate = (v: number) => pad.t + ph * (1 - v / maxRate);
    const yLat = (v: number) => pad.t + ph * (1 - v / maxLat);
    ctx.beginPath();
    ctx.moveTo(x(pts[0].t), pad.t + ph);
    for (const p of pts) ctx.lineTo(x(p.t), yRate(p.deliveriesPerSec));
    ctx.lineTo(x(pts[pts.length - 1].t), pad.t + ph);
    ctx.closePath();
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = rateColor;
    ctx.fill();
    ctx.globalAlpha = 1;
    line(ctx, pts.map((p) => [x(p.t), yRate(p.deliveriesPerSec)]), rateColor, 1.5);
    line(ctx, pts.map((p) => [x(p.t), yLat(p.queueDelayP99)]), delayColor, 1.5);
    line(ctx, pts.map((p) => [x(p.t), yLat(p.lagP99)]), lagColor, 1.5);
  }
}

function line(
  ctx: CanvasRenderingContext2D,
  xy: [number, number][],
  color: string,
  width: number,
): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.lineJoin = "round";
  ctx.beginPath();
  xy.forEach(([px, py], i) => (i === 0 ? ctx.moveTo(px, py) : ctx.lineTo(px, py)));
  ctx.stroke();
}

/** Rounds an axis maximum up to 1, 2 or 5 × a power of ten. */
export function niceMax(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
