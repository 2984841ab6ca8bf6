/**
 * The chunked framing, as pure functions: a frame larger than a limit is sent
 * as `chunked.start`, `chunked.data` × n, `chunked.end`, and no piece is
 * larger than the limit.
 *
 * For JSON text the pieces carry slices of the frame's text, so joining every
 * `data` gives the original text. The bound is exact: JSON escaping of a slice
 * (ECMA-262 `QuoteJSONString`) is computed character by character — `"` and
 * `\` take 2 bytes, `\b \t \n \f \r` 2, other control characters and lone
 * surrogates 6 (`\uXXXX`), everything else its UTF-8 size — and a surrogate
 * pair is never split.
 *
 * @module
 */
import { utf8Length } from "./encode.ts";

/**
 * The smallest chunk limit accepted: room for the `chunked.data` envelope with
 * 16-digit ids and at least a few characters.
 */
export const MIN_CHUNK_BYTES = 256;

/** Bytes `text.charCodeAt(i)` (and its pair) take inside a JSON string, and how many units it spans. */
function escapedCost(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0x80) {
    if (c >= 0x20) return c === 0x22 || c === 0x5c ? 2 : 1;
    return c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
  }
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = text.charCodeAt(i + 1);
    return d >= 0xdc00 && d <= 0xdfff ? 4 : 6;
  }
  if (c >= 0xdc00 && c <= 0xdfff) return 6;
  return 3;
}

function checkLimit(maxBytes: number): void {
  if (!(maxBytes >= MIN_CHUNK_BYTES)) {
    throw new RangeError(
      `Chunk limit must be at least ${MIN_CHUNK_BYTES} bytes, got ${JSON.stringify(maxBytes)}`,
    );
  }
}

/**
 * Splits a JSON frame's text into chunk frames, none over `maxBytes` UTF-8
 * bytes: `[start, data…, end]`.
 *
 * @throws {RangeError} when `maxBytes` is below {@linkcode MIN_CHUNK_BYTES}.
 *
 * @example
 * ```ts
 * import { chunkText } from "./chunking.ts";
 * const frames = chunkText(JSON.stringify({ type: "message", data: "x".repeat(1000) }), 7, 256);
 * JSON.parse(frames[0]).type; // "chunked.start"
 * frames.slice(1, -1).map((f) => JSON.parse(f).data).join(""); // the original text
 * ```
 */
export function chunkText(text: string, messageId: number, maxBytes: number): string[] {
  checkLimit(maxBytes);
  const pieces: string[] = [];
  let i = 0;
  while (i < text.length) {
    const head =
      `{"type":"chunked.data","messageId":${messageId},"chunkIndex":${pieces.length},"data":`;
    let budget = maxBytes - head.length - 3; // the string's two quotes and the closing brace
    const start = i;
    while (i < text.length) {
      const cost = escapedCost(text, i);
      if (cost > budget) break;
      budget -= cost;
      i += cost === 4 ? 2 : 1;
    }
    pieces.push(`${head}${JSON.stringify(text.slice(start, i))}}`);
  }
  return [
    JSON.stringify({
      type: "chunked.start",
      messageId,
      totalChunks: pieces.length,
      totalBytes: utf8Length(text),
    }),
    ...pieces,
    JSON.stringify({ type: "chunked.end", messageId }),
  ];
}

/** Encodes one frame object as MessagePack bytes. */
export type BinaryEncoder = (frame: Record<string, unknown>) => Uint8Array;

/** The largest MessagePack `bin` header (`bin32`); an empty `bin` takes 2 bytes. */
const MAX_BIN_HEADER = 5;

/**
 * Splits a binary (MessagePack) frame into chunk frames, none over `maxBytes`:
 * `[start, data…, end]`, each `data` a `bin` slice of the frame.
 *
 * @throws {RangeError} when `maxBytes` is below {@linkcode MIN_CHUNK_BYTES}.
 */
export function chunkBinary(
  bytes: Uint8Array,
  messageId: number,
  maxBytes: number,
  encode: BinaryEncoder,
): Uint8Array[] {
  checkLimit(maxBytes);
  const pieces: Uint8Array[] = [];
  const empty = new Uint8Array(0);
  let i = 0;
  while (i < bytes.length) {
    const chunkIndex = pieces.length;
    // The envelope with an empty `bin` (2 bytes), then the largest header the slice may need.
    const envelope = encode({ type: "chunked.data", messageId, chunkIndex, data: empty }).length -
      2;
    const n = Math.min(bytes.length - i, maxBytes - envelope - MAX_BIN_HEADER);
    pieces.push(
      encode({ type: "chunked.data", messageId, chunkIndex, data: bytes.subarray(i, i + n) }),
    );
    i += n;
  }
  return [
    encode({
      type: "chunked.start",
      messageId,
      totalChunks: pieces.length,
      totalBytes: bytes.length,
    }),
    ...pieces,
    encode({ type: "chunked.end", messageId }),
  ];
}
