/**
 * Number formatting shared by the load tester's outputs (table, progress line,
 * HTML report, demo).
 *
 * @module
 */

/**
 * Milliseconds with a precision that suits their size.
 *
 * @example
 * ```ts
 * import { fmtMs } from "./format.ts";
 * fmtMs(1.234); // "1.23"
 * fmtMs(123.4); // "123"
 * ```
 */
export function fmtMs(ms: number): string {
  if (ms === 0) return "0";
  if (ms >= 100) return Math.round(ms).toLocaleString("en-US");
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

/**
 * Bytes in B, KB, MB or GB (powers of 1000).
 *
 * @example
 * ```ts
 * import { fmtBytes } from "./format.ts";
 * fmtBytes(424_000); // "424 KB"
 * ```
 */
export function fmtBytes(bytes: number | undefined): string {
  if (bytes === undefined) return "n/a";
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
  return `${Math.round(bytes)} B`;
}

/**
 * A rate or count: 1 decimal below 100, grouped integers above.
 *
 * @example
 * ```ts
 * import { fmtNum } from "./format.ts";
 * fmtNum(99.94); // "99.9"
 * fmtNum(20010.2); // "20,010"
 * ```
 */
export function fmtNum(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return "n/a";
  if (Math.abs(n) >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString("en-US");
  return n.toFixed(1);
}

/** A percentage, `n/a` when unknown. */
export function fmtPct(n: number | undefined): string {
  return n === undefined ? "n/a" : `${fmtNum(n)} %`;
}

/** `{"4008": 1, "1000": 3}` as `4008×1, 1000×3`, or `none`. */
export function fmtCloses(closes: Record<string, number>): string {
  const entries = Object.entries(closes);
  return entries.length === 0 ? "none" : entries.map(([code, n]) => `${code}×${n}`).join(", ");
}

/** Left-aligns the first column and right-aligns the others of a text table. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join("  ")
      .trimEnd()
  ).join("\n");
}
