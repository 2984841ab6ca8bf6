/**
 * The frames the SDK reads, as it reads them: the protocol's server frames plus
 * the issue-4 additions (chunked framing and merge-patch messages) that the
 * server does not send yet. When the server sends them, these types move to
 * `lib/protocol/frames.ts` and this module re-exports them.
 *
 * @module
 */
import type { MessageFrame, ServerFrame } from "../protocol/frames.ts";

/** Opens a chunked transfer: `totalChunks` `chunked.data` frames follow, then `chunked.end`. */
export interface ChunkStartFrame {
  type: "chunked.start";
  messageId: string | number;
  totalChunks: number;
  /** Size of the reassembled frame in bytes (UTF-8 for the JSON codec). */
  totalBytes: number;
}

/** One piece of a chunked frame; pieces arrive in `chunkIndex` order (0, 1, 2, …). */
export interface ChunkDataFrame {
  type: "chunked.data";
  messageId: string | number;
  chunkIndex: number;
  /** A slice of the original frame: text with the JSON codec, bytes with MessagePack. */
  data: string | Uint8Array;
}

/** Closes a chunked transfer: the concatenated `data` is one original frame. */
export interface ChunkEndFrame {
  type: "chunked.end";
  messageId: string | number;
}

/** A chunk frame of any kind. */
export type ChunkFrame = ChunkStartFrame | ChunkDataFrame | ChunkEndFrame;

/**
 * A `message` as issue 4 extends it for keyed state: with `op: "patch"` its
 * `data` is a JSON Merge Patch (RFC 7396) to apply to the key's value; with
 * `op: "delete"` the key is removed (and there is no `data`).
 */
export interface KeyedMessageFrame extends Omit<MessageFrame, "data"> {
  op?: "patch" | "delete";
  data?: unknown;
}

/** Every frame the SDK handles. */
export type InboundFrame = ServerFrame | ChunkFrame;

/** True for the three chunk frame types. */
export function isChunkFrame(frame: { type: string }): frame is ChunkFrame {
  return frame.type === "chunked.start" || frame.type === "chunked.data" ||
    frame.type === "chunked.end";
}
