/**
 * The live progress line a load run writes to stderr: phase, elapsed time,
 * rates and the current p99. On a terminal it rewrites one line; otherwise it
 * prints a line every few seconds, so logs stay readable.
 *
 * @module
 */
import { fmtBytes, fmtMs, fmtNum } from "./format.ts";
import type { RunProgress } from "./load_run.ts";

/**
 * One progress line.
 *
 * @example
 * ```ts ignore
 * formatProgress(progress);
 * // "measuring 12.0/30 s | 5 subs | pub 100/s | recv 500/s (100/client) | p99 3.10 ms | server 80 MB, 12 % CPU"
 * ```
 */
export function formatProgress(p: RunProgress): string {
  const time = p.planned > 0
    ? `${p.elapsed.toFixed(1)}/${fmtNum(p.planned)} s`
    : `${p.elapsed.toFixed(1)} s`;
  const parts = [`${p.phase} ${time}`, `${p.subscribers} subs`];
  const pt = p.point;
  if (pt) {
    parts.push(
      `pub ${fmtNum(pt.publishedPerSec)}/s`,
      `recv ${fmtNum(pt.receivedPerSec)}/s (${fmtNum(pt.perClientPerSec)}/client)`,
      pt.measured > 0 ? `p99 ${fmtMs(pt.p99)} ms` : "nothing received",
    );
    if (pt.slowMeasured > 0) parts.push(`slow p99 ${fmtMs(pt.slowP99)} ms`);
    if (pt.rssBytes !== undefined) {
      parts.push(`server ${fmtBytes(pt.rssBytes)}, ${fmtNum(pt.cpuPercent)} % CPU`);
    }
  }
  return parts.join(" | ");
}

/** Writes progress lines to stderr. */
export class ProgressWriter {
  readonly #terminal: boolean;
  readonly #everyMs: number;
  readonly #encoder = new TextEncoder();
  #lastPrinted = 0;
  #lastPhase: string | undefined;
  #open = false;

  /** @param everyMs how often to print when stderr is not a terminal. */
  constructor(everyMs = 5000) {
    this.#terminal = Deno.stderr.isTerminal();
    this.#everyMs = everyMs;
  }

  /** Shows `p`. */
  update(p: RunProgress): void {
    const line = formatProgress(p);
    if (this.#terminal) {
      this.#write(`\r\x1b[K${line}`);
      this.#open = true;
      return;
    }
    const now = performance.now();
    if (p.phase !== this.#lastPhase || now - this.#lastPrinted >= this.#everyMs) {
      this.#write(`${line}\n`);
      this.#lastPrinted = now;
      this.#lastPhase = p.phase;
    }
  }

  /** Ends the line, before other output. */
  done(): void {
    if (this.#open) this.#write("\n");
    this.#open = false;
  }

  #write(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }
}
