/**
 * Reconnect delays: exponential backoff with jitter, so that clients dropped
 * together (a server restart) do not all come back in the same millisecond.
 *
 * @module
 */

/** How reconnect delays grow. */
export interface BackoffOptions {
  /**
   * Delay before the first reconnect attempt, in milliseconds.
   * @default {250}
   */
  initialDelayMs?: number;
  /**
   * Longest delay, in milliseconds.
   * @default {30000}
   */
  maxDelayMs?: number;
  /**
   * Each failed attempt multiplies the delay by this.
   * @default {2}
   */
  factor?: number;
  /**
   * Share of the delay that is random: the delay is uniform in
   * `[base × (1 − jitter), base]`. 0 disables jitter, 1 is "full jitter".
   * @default {0.5}
   */
  jitter?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first).
 *
 * @throws {RangeError} when an option is out of range.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * backoffDelay(0, {}, () => 0); // 250
 * backoffDelay(3, {}, () => 0); // 2000
 * backoffDelay(3, {}, () => 1); // 1000: half of the delay is jitter
 * backoffDelay(20, {}, () => 0); // 30000, the cap
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 30_000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.5;
  if (!(initial >= 0) || !(max >= initial)) {
    throw new RangeError(
      `Invalid backoff: initialDelayMs ${initial} must be ≥ 0 and ≤ maxDelayMs ${max}`,
    );
  }
  if (!(factor >= 1)) throw new RangeError(`Invalid backoff factor ${factor}: use 1 or more`);
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`Invalid backoff jitter ${jitter}: use a value from 0 to 1`);
  }
  const base = Math.min(max, initial * Math.pow(factor, Math.max(0, attempt)));
  return Math.round(base * (1 - jitter * random()));
}
