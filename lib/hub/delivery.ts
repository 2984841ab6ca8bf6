/**
 * A published message as the hub holds it for its receivers: encoded once per
 * broadcast, as bytes, and shared by every client queue it is pushed to.
 *
 * @module
 */
import type { Envelope } from "../bus/bus.ts";
import type { Codec, EncodedFrame } from "../protocol/codec.ts";
import { encodeMessageBytes } from "../protocol/encode.ts";
import type { MessageOp } from "../protocol/frames.ts";
import type { QueuedMessage } from "../queue/send_queue.ts";
import { type BuiltFrame, builtFrame } from "./built_frame.ts";

/** A message encoded in one codec, shared by every client of that codec. */
export interface Encoding {
  /** The `message` frame. */
  readonly frame: EncodedFrame;
  /** Its size in bytes. */
  readonly bytes: number;
  /** The frame as sent alone, shared by every client that gets it alone. */
  readonly single: BuiltFrame;
}

/**
 * A published message ready to send. The JSON `message` frame is made at once,
 * as UTF-8 bytes (off the V8 heap: a message waiting in many queues, or for a
 * long time, costs the heap a few small objects); the MessagePack one by the
 * first MessagePack client that needs it. The parsed data is not kept.
 */
export interface Delivery extends QueuedMessage, Encoding {
  readonly topic: string;
  readonly seq: number;
  readonly key?: string;
  readonly op?: MessageOp;
  /** Publish time, epoch ms. */
  readonly ts: number;
  /** The JSON `message` frame, as UTF-8 bytes. */
  readonly frame: Uint8Array;
  /** The JSON frame's size; the queue's byte limits count this. */
  readonly bytes: number;
  /** The data's JSON, for encodings made on first use; undefined when there is none. */
  readonly json: Uint8Array | undefined;
  /** The MessagePack encoding, once made. */
  msgpack: Encoding | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes an envelope once for all its receivers, reusing the data's JSON
 * when the bus made it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toDelivery } from "./delivery.ts";
 * const d = toDelivery({ topic: "t", seq: 3, ts: 0, data: { n: 1 } });
 * assert.equal(
 *   new TextDecoder().decode(d.frame),
 *   '{"type":"message","topic":"t","seq":3,"ts":0,"data":{"n":1}}',
 * );
 * assert.equal(d.bytes, d.frame.length);
 * ```
 */
export function toDelivery(env: Envelope): Delivery {
  let json = env.json;
  if (json === undefined) {
    const text: string | undefined = JSON.stringify(env.data);
    if (text !== undefined) json = encoder.encode(text);
  }
  const frame = encodeMessageBytes(env, json);
  const bytes = frame.length;
  return {
    topic: env.topic,
    seq: env.seq,
    key: env.key,
    op: env.op,
    ts: env.ts,
    frame,
    bytes,
    single: builtFrame(frame, bytes, 1, 0, env.ts),
    json,
    msgpack: undefined,
  };
}

/** The delivery's encoding in `codec`, made once per broadcast. */
export function encodingOf(d: Delivery, codec: Codec): Encoding {
  if (codec.name === "json") return d;
  if (d.msgpack === undefined) {
    const data = d.json === undefined ? undefined : JSON.parse(decoder.decode(d.json));
    const frame = codec.encodeMessage({
      topic: d.topic,
      seq: d.seq,
      key: d.key,
      op: d.op,
      ts: d.ts,
      data,
    });
    const bytes = codec.byteLength(frame);
    d.msgpack = { frame, bytes, single: builtFrame(frame, bytes, 1, 0, d.ts) };
  }
  return d.msgpack;
}
