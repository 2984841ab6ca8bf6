import type { ChunkFrame } from "../../lib/client/wire.ts";
import { utf8Length } from "../../lib/protocol/encode.ts";

/**
 * Splits an encoded frame into `chunked.start`, `chunked.data` × n and
 * `chunked.end`, as issue 4's server will: text in slices of `size` characters,
 * bytes in slices of `size` bytes.
 */
export function chunkFrames(
  messageId: string | number,
  whole: string | Uint8Array,
  size: number,
): ChunkFrame[] {
  const parts: (string | Uint8Array)[] = [];
  for (let i = 0; i < whole.length; i += size) parts.push(whole.slice(i, i + size));
  const totalBytes = typeof whole === "string" ? utf8Length(whole) : whole.byteLength;
  return [
    { type: "chunked.start", messageId, totalChunks: parts.length, totalBytes },
    ...parts.map((data, chunkIndex): ChunkFrame => ({
      type: "chunked.data",
      messageId,
      chunkIndex,
      data,
    })),
    { type: "chunked.end", messageId },
  ];
}
