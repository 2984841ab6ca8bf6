import { TokenBucket } from "./token_bucket.ts";

/**
 * One {@linkcode TokenBucket} per key (a token's identity, an address), with
 * idle keys forgotten so the map stays bounded. A rate of 0 allows everything.
 *
 * @example
 * ```ts
 * import { KeyedRateLimiter } from "./keyed_rate_limiter.ts";
 * const limiter = new KeyedRateLimiter(1); // 1/s, bursts of 2
 * limiter.take("a"); // true
 * ```
 */
export class KeyedRateLimiter {
  readonly #rate: number;
  readonly #maxKeys: number;
  #buckets = new Map<string, TokenBucket>();

  /** @param maxKeys keys tracked at once before idle ones are swept. @default {10000} */
  constructor(ratePerSec: number, maxKeys = 10_000) {
    this.#rate = ratePerSec;
    this.#maxKeys = maxKeys;
  }

  /** Most tokens one key may take at once (twice the rate); `Infinity` when unlimited. */
  get burst(): number {
    return this.#rate <= 0 ? Infinity : Math.max(1, this.#rate * 2);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes `n` tokens for `key`.
   *
   * @returns 0 when allowed, else the milliseconds to wait.
   */
  take(key: string, n = 1, now = performance.now()): number {
    if (this.#rate <= 0) return 0;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxKeys) this.#sweep(now);
      bucket = new TokenBucket(this.#rate, this.#rate * 2, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(n, now) ? 0 : Math.max(1, bucket.waitMs(n, now));
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key);
    // Still full of busy keys: drop the oldest half rather than grow without bound.
    if (this.#buckets.size >= this.#maxKeys) {
      let n = Math.floor(this.#maxKeys / 2);
      for (const key of this.#buckets.keys()) {
        if (n-- <= 0) break;
        this.#buckets.delete(key);
      }
    }
  }
}
