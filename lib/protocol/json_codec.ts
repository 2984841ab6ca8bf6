/**
 * The JSON wire codec and the {@linkcode Codec} interface, without
 * MessagePack: what a server needs until a client asks for
 * `floodgate.v1.msgpack` (`codec.ts` adds it; `@msgpack/msgpack` costs a
 * process ~5 MB of resident memory at import). Shared by the server and the
 * client SDK; uses no Deno-only API.
 *
 * @module
 */
import { chunkText } from "./chunking.ts";
import {
  encodeBatch,
  encodeBatchBytes,
  encodeGap,
  encodeMessage,
  type MessageFields,
  utf8Length,
} from "./encode.ts";
import type { GapReason } from "./frames.ts";
import { ProtocolError } from "./protocol_error.ts";
import { JSON_SUBPROTOCOL } from "./subprotocol.ts";

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

/**
 * The JSON codec: the text framing of `encode.ts`. Received binary frames go
 * to `decodeBinary` (MessagePack, where loaded: `codec.ts`); without it they
 * are refused.
 */
export function jsonCodec(decodeBinary?: (bytes: Uint8Array) => unknown): Codec {
  return {
    name: "json",
    subprotocol: JSON_SUBPROTOCOL,
    encode: (frame) => JSON.stringify(frame),
    decode: (data) =>
      typeof data === "string"
        ? decodeText(data)
        : decodeBinary
        ? decodeBinary(data instanceof Uint8Array ? data : new Uint8Array(data))
        : noBinary(),
    encodeMessage,
    encodeGap,
    encodeBatch: jsonBatch,
    batchOverhead: 30,
    batchPerPart: 1,
    byteLength: (frame) => typeof frame === "string" ? utf8Length(frame) : frame.length,
    chunk: (frame, messageId, maxBytes) => chunkText(jsonText(frame), messageId, maxBytes),
  };
}

/**
 * Decodes one received text frame as JSON.
 *
 * @throws {ProtocolError} `bad_json` when it does not parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeText } from "./json_codec.ts";
 * assert.deepEqual(decodeText('{"type":"ping","id":3}'), { type: "ping", id: 3 });
 * ```
 */
export function decodeText(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new ProtocolError(
      "bad_json",
      `Frame is not valid JSON (starts with ${JSON.stringify(data.slice(0, 40))})`,
    );
  }
}

function noBinary(): never {
  throw new ProtocolError(
    "bad_json",
    "Binary frames are MessagePack: connect with the floodgate.v1.msgpack subprotocol, or send text",
  );
}
