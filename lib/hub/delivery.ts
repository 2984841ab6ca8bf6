import type { Envelope } from "../bus/bus.ts";
import type { Codec, EncodedFrame } from "../protocol/codec.ts";
import { encodeMessage, utf8Length } from "../protocol/encode.ts";
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
 * A published message ready to send: encoded once per broadcast (per codec)
 * and shared by every client queue it is pushed to. The JSON encoding is made
 * at once; the MessagePack one by the first MessagePack client that needs it.
 */
export interface Delivery extends QueuedMessage, Encoding {
  readonly topic: string;
  readonly seq: number;
  readonly key?: string;
  readonly op?: MessageOp;
  /** Publish time, epoch ms. */
  readonly ts: number;
  /** The JSON `message` frame's text. */
  readonly frame: string;
  /** The JSON frame's UTF-8 size; the queue's byte limits count this. */
  readonly bytes: number;
  /** The envelope, for encodings made on first use. */
  readonly source: Envelope;
  /** The MessagePack encoding, once made. */
  msgpack: Encoding | undefined;
}

/** Encodes an envelope once for all its receivers. */
export function toDelivery(env: Envelope): Delivery {
  const frame = encodeMessage(env);
  const bytes = utf8Length(frame);
  return {
    topic: env.topic,
    seq: env.seq,
    key: env.key,
    op: env.op,
    ts: env.ts,
    frame,
    bytes,
    single: builtFrame(frame, bytes, 1, 0, env.ts),
    source: env,
    msgpack: undefined,
  };
}

/** The delivery's encoding in `codec`, made once per broadcast. */
export function encodingOf(d: Delivery, codec: Codec): Encoding {
  if (codec.name === "json") return d;
  if (d.msgpack === undefined) {
    const frame = codec.encodeMessage(d.source);
    const bytes = codec.byteLength(frame);
    d.msgpack = { frame, bytes, single: builtFrame(frame, bytes, 1, 0, d.ts) };
  }
  return d.msgpack;
}
