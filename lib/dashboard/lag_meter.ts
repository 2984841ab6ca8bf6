/**
 * Client-side lag: the time from a message's publish `ts` (server clock) to
 * the moment the page rendered it (browser clock). Keeps the last samples in a
 * ring buffer and answers percentiles. Assumes the two clocks agree (same
 * machine, or NTP); the figure includes network, queueing and render delay.
 *
 * @module
 */

/** Lag percentiles in milliseconds over the samples held. */
export interface LagSnapshot {
  /** Samples recorded since the page loaded. */
  total: number;
  /** Samples the percentiles cover (the most recent ones). */
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The latest sample. */
  last: number;
}

/**
 * A ring buffer of lag samples.
 *
 * @example
 * ```ts
 * import { LagMeter } from "./lag_meter.ts";
 * const lag = new LagMeter(1000);
 * lag.record(1000, 1012.5); // published at 1000, rendered at 1012.5
 * lag.snapshot().p50; // 12.5
 * ```
 */
export class LagMeter {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;
  #total = 0;
  #last = 0;

  /** @param capacity samples kept for the percentiles. */
  constructor(capacity = 2000) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`LagMeter capacity must be a positive integer, got ${capacity}`);
    }
    this.#samples = new Float64Array(capacity);
  }

  /** Records one message published at `ts` and rendered at `renderedAt` (epoch ms). */
  record(ts: number, renderedAt: number): void {
    const lag = Math.max(0, renderedAt - ts);
    this.#samples[this.#next] = lag;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#count = Math.min(this.#count + 1, this.#samples.length);
    this.#total++;
    this.#last = lag;
  }

  /** Percentiles over the samples held (zeros before the first sample). */
  snapshot(): LagSnapshot {
    const n = this.#count;
    if (n === 0) return { total: 0, count: 0, p50: 0, p95: 0, p99: 0, max: 0, last: 0 };
    const sorted = this.#samples.slice(0, n).sort();
    const at = (p: number) => round(sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]);
    return {
      total: this.#total,
      count: n,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max: round(sorted[n - 1]),
      last: round(this.#last),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
