/**
 * Opens many connections with bounded concurrency, counting the failures: a
 * load test should measure the server's accept path, not flood it with
 * thousands of simultaneous handshakes.
 *
 * @module
 */

/** What {@linkcode connectAll} opened. */
export interface ConnectOutcome<T> {
  /** The connections that opened, in the order they finished. */
  opened: T[];
  /** How many failed, and the first error message. */
  failed: number;
  firstError: string | undefined;
}

/**
 * Calls `connect(i)` for `i` in `from..from + count - 1`, at most `concurrency`
 * at a time.
 *
 * @example
 * ```ts
 * import { connectAll } from "./connect_pool.ts";
 * const out = await connectAll(3, 2, (i) => Promise.resolve(i * 10));
 * out.opened.sort(); // [0, 10, 20]
 * ```
 */
export async function connectAll<T>(
  count: number,
  concurrency: number,
  connect: (i: number) => Promise<T>,
  from = 0,
): Promise<ConnectOutcome<T>> {
  const out: ConnectOutcome<T> = { opened: [], failed: 0, firstError: undefined };
  let next = from;
  const end = from + count;
  const worker = async () => {
    while (next < end) {
      const i = next++;
      try {
        out.opened.push(await connect(i));
      } catch (err) {
        out.failed++;
        out.firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  return out;
}
