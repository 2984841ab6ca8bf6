import type { EncodedFrame } from "../protocol/codec.ts";

/** One frame ready for a socket. */
export interface BuiltFrame {
  readonly text: EncodedFrame;
  /** Size in bytes (for a batch, an upper bound). */
  readonly bytes: number;
  /** Messages it carries. */
  readonly messages: number;
  /** Gap notices it carries. */
  readonly gaps: number;
  /** Publish time of its oldest message, or undefined when it carries none. */
  readonly oldestTs: number | undefined;
  /** Its chunk frames, made once however many clients send it. */
  chunks: readonly BuiltFrame[] | undefined;
  /** Its permessage-deflate payload, made once however many clients send it. */
  deflated: Uint8Array | undefined;
}

/** Makes a {@linkcode BuiltFrame}. */
export function builtFrame(
  text: EncodedFrame,
  bytes: number,
  messages = 0,
  gaps = 0,
  oldestTs: number | undefined = undefined,
): BuiltFrame {
  return { text, bytes, messages, gaps, oldestTs, chunks: undefined, deflated: undefined };
}
