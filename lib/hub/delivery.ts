import type { Envelope } from "../bus/bus.ts";
import { encodeMessage, utf8Length } from "../protocol/encode.ts";
import type { QueuedMessage } from "../queue/send_queue.ts";
import type { BuiltFrame } from "./frame_builder.ts";

/**
 * A published message ready to send: encoded once per broadcast and shared by
 * every client queue it is pushed to.
 */
export interface Delivery extends QueuedMessage {
  readonly topic: string;
  readonly seq: number;
  readonly key?: string;
  /** Publish time, epoch ms. */
  readonly ts: number;
  /** The `message` frame's text. */
  readonly frame: string;
  /** The frame's UTF-8 size. */
  readonly bytes: number;
  /** The frame as sent alone, shared by every client that gets it alone. */
  readonly single: BuiltFrame;
}

/** Encodes an envelope once for all its receivers. */
export function toDelivery(env: Envelope): Delivery {
  const frame = encodeMessage(env);
  const bytes = utf8Length(frame);
  return {
    topic: env.topic,
    seq: env.seq,
    key: env.key,
    ts: env.ts,
    frame,
    bytes,
    single: { text: frame, bytes, messages: 1, gaps: 0, oldestTs: env.ts },
  };
}
