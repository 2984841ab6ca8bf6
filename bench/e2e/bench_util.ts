/** Small helpers shared by the end-to-end benchmarks. */

/** Reads a child process's output line by line. */
export function lineReader(
  stdout: ReadableStream<Uint8Array<ArrayBuffer>>,
): () => Promise<string> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return async () => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("agent exited early");
      buffered += value;
    }
  };
}

/** The median of the numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A subscriber-agent child process and its report lines. */
export interface AgentProcess {
  /** The next line it printed (`{"ready": …}`, then its report). */
  nextLine: () => Promise<string>;
  /** Resolves when it exits. */
  status: Promise<Deno.CommandStatus>;
}

/**
 * Starts an agent script (`lib/load/agent.ts` or a bench's own) connected to
 * `serverUrl`'s `/ws`, with `args` after `--url`.
 */
export function spawnAgent(script: string, serverUrl: string, args: string[]): AgentProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--url", `${serverUrl.replace("http", "ws")}/ws`, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { nextLine: lineReader(child.stdout), status: child.status };
}
