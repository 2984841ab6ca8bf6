/**
 * The process's file-descriptor budget. Every TCP connection holds one
 * descriptor; at the soft limit (`ulimit -n`) `accept` fails with EMFILE,
 * which Deno's listeners do not survive on their own (see `listeners.ts`).
 * The server caps its sockets below the limit and can warn at startup when
 * `--max-connections` does not fit.
 *
 * @module
 */

/** Reads a procfs file; `undefined` when it cannot (no /proc, no read permission). */
export type ProcReader = (path: string) => string | undefined;

const readProc: ProcReader = (path) => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
};

/**
 * The soft limit on open files in `/proc/self/limits` text.
 *
 * @returns the limit, `Infinity` for "unlimited", `undefined` when the line is missing.
 *
 * @example
 * ```ts
 * import { parseFdSoftLimit } from "./fd_limit.ts";
 * parseFdSoftLimit("Max open files            1024                 524288               files");
 * // 1024
 * ```
 */
export function parseFdSoftLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(limits);
  if (!match) return undefined;
  if (match[1] === "unlimited") return Infinity;
  const value = Number(match[1]);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * The process's soft limit on open file descriptors (`ulimit -n`), read from
 * `/proc/self/limits`.
 *
 * @param read reads the file. @default {Deno.readTextFileSync, undefined on failure}
 * @returns `undefined` where that is unavailable (not Linux, no `--allow-read`, Deno Deploy).
 */
export function fdSoftLimit(read: ProcReader = readProc): number | undefined {
  const text = read("/proc/self/limits");
  return text === undefined ? undefined : parseFdSoftLimit(text);
}

/** Descriptors the process holds now (`/proc/self/fd`), or `undefined` where unavailable. */
export function openFdCount(): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n - 1; // the directory handle the listing itself holds
  } catch {
    return undefined;
  }
}

/**
 * Descriptors kept free for what is not a client socket (files, Redis, DNS)
 * and for the churn at the cap: a connection past it is accepted before it
 * is closed, and under a flood of connects up to about a hundred of those
 * are open at once (measured: 10,000 concurrent connects at `ulimit -n 1024`
 * broke a reserve of 64, not one of 128). A sixteenth of the limit, at least
 * 128 and at most 4096.
 */
export function fdReserve(limit: number): number {
  return Math.min(4096, Math.max(128, Math.ceil(limit / 16)));
}

/**
 * How many client sockets fit under the descriptor limit: the limit, less
 * what is open now, less {@linkcode fdReserve}. A listener that holds no more
 * than this does not meet EMFILE on `accept` from its own sockets.
 *
 * @param limit the soft limit. @default {fdSoftLimit()}
 * @param open descriptors open now. @default {openFdCount() ?? 0}
 * @returns `undefined` when the limit is unknown or unlimited; at least 1.
 *
 * @example
 * ```ts
 * import { socketBudget } from "./fd_limit.ts";
 * socketBudget(1024, 30); // 1024 - 30 - 128 = 866
 * ```
 */
export function socketBudget(
  limit: number | undefined = fdSoftLimit(),
  open: number = openFdCount() ?? 0,
): number | undefined {
  if (limit === undefined || !Number.isFinite(limit)) return undefined;
  return Math.max(1, limit - open - fdReserve(limit));
}
