import type { Envelope } from "../bus/bus.ts";
import { encodeMessage, utf8Length } from "../protocol/encode.ts";
import type { QueuedMessage } from "../queue/send_queue.ts";

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
}

/** Encodes an envelope once for all its receivers. */
export function toDelivery(env: Envelope): Delivery {
  const frame = encodeMessage(env);
  return {
    topic: env.topic,
    seq: env.seq,
    key: env.key,
    ts: env.ts,
    frame,
    bytes: utf8Length(frame),
  };
}
