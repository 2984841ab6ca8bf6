/**
 * A token bucket: `ratePerSec` tokens a second, holding at most `burst`.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * const bucket = new TokenBucket(10, 20, 0);
 * bucket.take(1, 0); // true: starts full
 * ```
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  /**
   * @param ratePerSec tokens added per second.
   * @param burst most tokens held. @default twice `ratePerSec`
   * @param now the clock at creation, ms.
   * @throws {RangeError} when `ratePerSec` is not positive.
   */
  constructor(ratePerSec: number, burst = ratePerSec * 2, now = performance.now()) {
    if (!(ratePerSec > 0)) throw new RangeError(`Rate must be > 0, got ${ratePerSec}`);
    this.#rate = ratePerSec;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#last = now;
  }

  /** Takes `n` tokens if there are that many. */
  take(n = 1, now = performance.now()): boolean {
    this.#refill(now);
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** True when the bucket is full (an idle key can be forgotten). */
  isFull(now = performance.now()): boolean {
    this.#refill(now);
    return this.#tokens >= this.#burst;
  }

  /** Milliseconds until `n` tokens are available. */
  waitMs(n = 1, now = performance.now()): number {
    this.#refill(now);
    return this.#tokens >= n ? 0 : Math.ceil(((n - this.#tokens) / this.#rate) * 1000);
  }

  #refill(now: number): void {
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#rate);
      this.#last = now;
    }
  }
}
