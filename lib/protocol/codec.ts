/**
 * Wire codecs, chosen per connection by WebSocket subprotocol (`subprotocol.ts`):
 * `floodgate.v1.json` (the default; text frames, `json_codec.ts`) or
 * `floodgate.v1.msgpack` (binary frames, MessagePack via `npm:@msgpack/msgpack`).
 * Both carry the same frame objects. A codec encodes messages, joins
 * already-encoded frames into a `batch` without decoding them, and splits
 * large frames into chunks. Shared by the server and the client SDK; uses no
 * Deno-only API. The server imports this module only once a client asks for
 * MessagePack.
 *
 * @module
 */
import { decode as msgpackDecode, Encoder } from "@msgpack/msgpack";
import { chunkBinary } from "./chunking.ts";
import { concatBytes } from "./bytes.ts";
import { messageObject, utf8Length } from "./encode.ts";
import {
  type Codec,
  type CodecName,
  decodeText,
  type EncodedFrame,
  jsonCodec as textCodec,
  type ReceivedFrame,
} from "./json_codec.ts";
import { ProtocolError } from "./protocol_error.ts";
import { MSGPACK_SUBPROTOCOL } from "./subprotocol.ts";

export type { Codec, CodecName, EncodedFrame, ReceivedFrame } from "./json_codec.ts";
export { decodeText } from "./json_codec.ts";

/** The JSON codec, decoding received binary frames as MessagePack. */
export function jsonCodec(): Codec {
  return textCodec(decodeFrame);
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
  if (typeof data === "string") return decodeText(data);
  try {
    return msgpackDecode(data instanceof Uint8Array ? data : new Uint8Array(data));
  } catch (err) {
    throw new ProtocolError(
      "bad_json",
      `Binary frame is not valid MessagePack (${(err as Error).message.slice(0, 80)})`,
    );
  }
}
