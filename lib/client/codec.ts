/**
 * The two wire codecs, chosen by WebSocket subprotocol: JSON text frames
 * (`floodgate.v1.json`, the default) and MessagePack binary frames
 * (`floodgate.v1.msgpack`).
 *
 * @module
 */
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";

/** Raw data of one WebSocket message, as a browser or Deno delivers it. */
export type WireData = string | ArrayBuffer | Uint8Array;

/** Turns frames into WebSocket messages and back. */
export interface Codec {
  /** `"json"` or `"msgpack"`. */
  readonly name: CodecName;
  /** The WebSocket subprotocol that selects this codec. */
  readonly subprotocol: string;
  /** Encodes one frame for `WebSocket.send`. */
  encode(frame: object): string | Uint8Array<ArrayBuffer>;
  /**
   * Decodes one WebSocket message. Text is always read as JSON (a server may
   * send text frames on either codec); binary as this codec's encoding.
   *
   * @throws {SyntaxError} when the data is not a valid frame in this encoding.
   */
  decode(data: WireData): unknown;
}

/** The codec names {@linkcode connect} accepts. */
export type CodecName = "json" | "msgpack";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function bytesOf(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

/** JSON text frames: subprotocol `floodgate.v1.json`. */
export const jsonCodec: Codec = {
  name: "json",
  subprotocol: "floodgate.v1.json",
  encode: (frame) => JSON.stringify(frame),
  decode: (data) => JSON.parse(typeof data === "string" ? data : utf8.decode(bytesOf(data))),
};

/** MessagePack binary frames (`npm:@msgpack/msgpack`): subprotocol `floodgate.v1.msgpack`. */
export const msgpackCodec: Codec = {
  name: "msgpack",
  subprotocol: "floodgate.v1.msgpack",
  encode: (frame) => msgpackEncode(frame) as Uint8Array<ArrayBuffer>,
  decode(data) {
    if (typeof data === "string") return JSON.parse(data);
    try {
      return msgpackDecode(bytesOf(data));
    } catch (err) {
      throw new SyntaxError(`Binary frame is not valid MessagePack: ${(err as Error).message}`);
    }
  },
};

/** The codec of a name. */
export function codecByName(name: CodecName): Codec {
  if (name === "json") return jsonCodec;
  if (name === "msgpack") return msgpackCodec;
  throw new TypeError(`Unknown codec "${name}": use "json" or "msgpack"`);
}

/**
 * The codec a server chose, from the socket's negotiated `protocol`. A server
 * that chose none speaks JSON.
 */
export function codecForProtocol(protocol: string): Codec {
  return protocol === msgpackCodec.subprotocol ? msgpackCodec : jsonCodec;
}
