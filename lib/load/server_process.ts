/**
 * Runs a Floodgate server in a child process (for the load tester, the demo
 * and the end-to-end benchmarks) and reads its CPU time and memory from /proc.
 *
 * @module
 */

/** A server running in a child process. */
export interface ServerProcess {
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  readonly pid: number;
  /** User + system CPU seconds the process used so far (Linux /proc). */
  cpuSeconds(): number;
  /** Resident memory in bytes (Linux /proc). */
  rssBytes(): number;
  /** Sends SIGTERM and waits for exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const MAIN = new URL("../../main.ts", import.meta.url);

/**
 * The V8 flags `deno task start` runs the server with, so what is measured is
 * what runs. `--memory-saver-mode`: V8 otherwise lets the old generation fill
 * with dead message copies before collecting; `deno task bench:memory`
 * measured +188 MiB of RSS without it against +43 MiB with it (BENCHMARKS.md §7).
 */
export const SERVER_V8_FLAGS: readonly string[] = ["--memory-saver-mode"];
const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * Starts `main.ts` with `flags` on a free loopback port and waits until it listens.
 *
 * @throws {Error} when the server exits or does not listen within 20 s.
 */
export async function spawnServer(
  flags: readonly string[],
  options: {
    env?: Record<string, string>;
    logTo?: "inherit" | "null";
    /** @default {SERVER_V8_FLAGS} */
    v8Flags?: readonly string[];
  } = {},
): Promise<ServerProcess> {
  const port = freePort();
  const v8Flags = options.v8Flags ?? SERVER_V8_FLAGS;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : []),
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      MAIN.pathname,
      "--hostname",
      "127.0.0.1",
      "--port",
      String(port),
      "--stats-interval",
      "0",
      ...flags,
    ],
    env: options.env,
    stdout: options.logTo === "inherit" ? "inherit" : "null",
    stderr: options.logTo === "inherit" ? "inherit" : "null",
    stdin: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  await waitUntilHealthy(url, child);
  const pid = child.pid;
  return {
    url,
    pid,
    cpuSeconds: () => procCpuSeconds(pid),
    rssBytes: () => procRssBytes(pid),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      await child.status;
      clearTimeout(killer);
    },
  };
}

/** A free TCP port on 127.0.0.1 (the OS picks it; free again once this returns). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitUntilHealthy(url: string, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // already gone
  }
  throw new Error(
    exited
      ? "The server exited before listening"
      : `The server at ${url} did not start within 20 s`,
  );
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident memory of a process in bytes, from /proc/<pid>/status. */
export function procRssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
