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
