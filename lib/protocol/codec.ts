/**
 * Wire codecs, chosen per connection by WebSocket subprotocol (`subprotocol.ts`):
 * `floodgate.v1.json` (the default; text frames) or `floodgate.v1.msgpack`
 * (binary frames, MessagePack via `npm:@msgpack/msgpack`). Both carry the same
 * frame objects. A codec encodes messages, joins already-encoded frames into a
 * `batch` without decoding them, and splits large frames into chunks. Shared by
 * the server and the client SDK; uses no Deno-only API.
 *
 * @module
 */
import { decode as msgpackDecode, Encoder } from "@msgpack/msgpack";
import { chunkBinary, chunkText } from "./chunking.ts";
import { concatBytes } from "./bytes.ts";
import {
  encodeBatch,
  encodeBatchBytes,
  encodeGap,
  encodeMessage,
  type MessageFields,
  messageObject,
  utf8Length,
} from "./encode.ts";
import type { GapReason } from "./frames.ts";
import { ProtocolError } from "./protocol_error.ts";
import { JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL } from "./subprotocol.ts";

/**
 * A frame as sent. In the JSON codec it is text, as a string or as its UTF-8
 * bytes (how the server holds published messages, off the V8 heap); in the
 * MessagePack codec it is bytes.
 */
export type EncodedFrame = string | Uint8Array;

/** One WebSocket message as received: text, or bytes as Deno, Node or a browser hands them over. */
export type ReceivedFrame = string | Uint8Array | ArrayBuffer;

/** Names of the codecs. */
export type CodecName = "json" | "msgpack";

/** Encodes and decodes frames of one wire format. */
export interface Codec {
  readonly name: CodecName;
  /** The subprotocol that selects it. */
  readonly subprotocol: string;
  /** Encodes any frame object. */
  encode(frame: object): EncodedFrame;
  /**
   * Decodes one received frame: text as JSON (either codec may carry text
   * frames), bytes as MessagePack. Same as {@linkcode decodeFrame}.
   *
   * @throws {ProtocolError} `bad_json` when it does not decode.
   */
  decode(data: ReceivedFrame): unknown;
  /** Encodes a `message` frame (the hot path). */
  encodeMessage(m: MessageFields): EncodedFrame;
  /** Encodes a `gap` frame. */
  encodeGap(topic: string, fromSeq: number, toSeq: number, reason: GapReason): EncodedFrame;
  /** Joins encoded `message`/`gap` frames into one `batch` frame without decoding them. */
  encodeBatch(parts: readonly EncodedFrame[]): EncodedFrame;
  /** A `batch` frame's size is at most `batchOverhead` + the sum of (part size + `batchPerPart`). */
  readonly batchOverhead: number;
  readonly batchPerPart: number;
  /** Bytes of a frame on the wire (before compression). */
  byteLength(frame: EncodedFrame): number;
  /** Splits a frame into `[chunked.start, chunked.data…, chunked.end]`, none over `maxBytes`. */
  chunk(frame: EncodedFrame, messageId: number, maxBytes: number): EncodedFrame[];
}

const textDecoder = new TextDecoder();

function jsonText(frame: EncodedFrame): string {
  return typeof frame === "string" ? frame : textDecoder.decode(frame);
}

function jsonBatch(parts: readonly EncodedFrame[]): EncodedFrame {
  const texts: string[] = [];
  for (const p of parts) {
    if (typeof p !== "string") return encodeBatchBytes(parts);
    texts.push(p);
  }
  return encodeBatch(texts);
}

/** The JSON codec: the existing text framing of `encode.ts`. */
export function jsonCodec(): Codec {
  return {
    name: "json",
    subprotocol: JSON_SUBPROTOCOL,
    encode: (frame) => JSON.stringify(frame),
    decode: decodeFrame,
    encodeMessage,
    encodeGap,
    encodeBatch: jsonBatch,
    batchOverhead: 30,
    batchPerPart: 1,
    byteLength: (frame) => typeof frame === "string" ? utf8Length(frame) : frame.length,
    chunk: (frame, messageId, maxBytes) => chunkText(jsonText(frame), messageId, maxBytes),
  };
}

// {"type":"batch","messages":[ as a fixmap of 2, three fixstrs, then the array header.
const BATCH_HEAD = new Uint8Array([
  0x82,
  0xa4,
  ...new TextEncoder().encode("type"),
  0xa5,
  ...new TextEncoder().encode("batch"),
  0xa8,
  ...new TextEncoder().encode("messages"),
]);

function msgpackBatch(parts: readonly Uint8Array[]): Uint8Array {
  const n = parts.length;
  const header = n < 16 ? [0x90 | n] : n < 0x10000 ? [0xdc, n >> 8, n & 0xff] : [
    0xdd,
    (n >>> 24) & 0xff,
    (n >>> 16) & 0xff,
    (n >>> 8) & 0xff,
    n & 0xff,
  ];
  return concatBytes([BATCH_HEAD, new Uint8Array(header), ...parts]);
}

function binary(frame: EncodedFrame): Uint8Array {
  if (typeof frame === "string") throw new TypeError("The MessagePack codec only handles bytes");
  return frame;
}

/**
 * The MessagePack codec. Frames are maps with the same fields as in JSON;
 * `undefined` fields are left out, as `JSON.stringify` does.
 */
export function msgpackCodec(): Codec {
  const encoder = new Encoder({ ignoreUndefined: true });
  const encode = (frame: object) => encoder.encode(frame);
  return {
    name: "msgpack",
    subprotocol: MSGPACK_SUBPROTOCOL,
    encode,
    decode: decodeFrame,
    encodeMessage: (m) => encoder.encode(messageObject(m)),
    encodeGap: (topic, fromSeq, toSeq, reason) =>
      encoder.encode({ type: "gap", topic, fromSeq, toSeq, reason }),
    encodeBatch: (parts) => msgpackBatch(parts.map(binary)),
    batchOverhead: BATCH_HEAD.length + 5,
    batchPerPart: 0,
    byteLength: (frame) => typeof frame === "string" ? utf8Length(frame) : frame.length,
    chunk: (frame, messageId, maxBytes) => chunkBinary(binary(frame), messageId, maxBytes, encode),
  };
}

/**
 * Creates the codec called `name`.
 *
 * @throws {TypeError} when `name` is neither `"json"` nor `"msgpack"`.
 *
 * @example
 * ```ts
 * import { createCodec } from "./codec.ts";
 * createCodec("msgpack").subprotocol; // "floodgate.v1.msgpack"
 * ```
 */
export function createCodec(name: CodecName): Codec {
  if (name === "json") return jsonCodec();
  if (name === "msgpack") return msgpackCodec();
  throw new TypeError(`Unknown codec ${JSON.stringify(name)}: use "json" or "msgpack"`);
}

/**
 * Decodes one received frame: text as JSON, bytes as MessagePack.
 *
 * @throws {ProtocolError} `bad_json` when it does not decode.
 *
 * @example
 * ```ts
 * import { decodeFrame } from "./codec.ts";
 * decodeFrame('{"type":"ping","id":3}'); // { type: "ping", id: 3 }
 * ```
 */
export function decodeFrame(data: ReceivedFrame): unknown {
  if (typeof data === "string") {
    try {
      return JSON.parse(data);
    } catch {
      throw new ProtocolError(
        "bad_json",
        `Frame is not valid JSON (starts with ${JSON.stringify(data.slice(0, 40))})`,
      );
    }
  }
  try {
    return msgpackDecode(data instanceof Uint8Array ? data : new Uint8Array(data));
  } catch (err) {
    throw new ProtocolError(
      "bad_json",
      `Binary frame is not valid MessagePack (${(err as Error).message.slice(0, 80)})`,
    );
  }
}
