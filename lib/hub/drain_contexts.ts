/**
 * What the sessions of one codec and level share when they write: the frame
 * builder (and its batch cache), the compressor and the per-frame hooks.
 *
 * @module
 */
import { MIN_CHUNK_BYTES } from "../protocol/chunking.ts";
import { type Codec, type CodecName, jsonCodec } from "../protocol/json_codec.ts";
import { type BuiltFrame, FrameBuilder } from "./frame_builder.ts";
import type { FrameCompressor } from "./frame_compressor.ts";

/** Shared by the sessions of one codec: the frame builder, the compressor and the per-frame hook. */
export interface DrainContext {
  /** Builds and chunks frames in the sessions' codec. */
  builder: FrameBuilder;
  /** Compresses frames for sockets that negotiated permessage-deflate. */
  compressor?: FrameCompressor;
  /** Called with each frame written. */
  onFrame(frame: BuiltFrame): void;
  /** Called when a chunked message was sent whole, with its number of chunk frames. */
  onChunked(frames: number): void;
}

/** Options of {@linkcode createDrainContexts}. */
export interface DrainContextsOptions {
  /** Frames larger than this go out in chunks; 0 (or `Infinity`) sends them whole. */
  chunkBytes: number;
  compressor: FrameCompressor | undefined;
  onFrame: DrainContext["onFrame"];
  onChunked: DrainContext["onChunked"];
}

/** Which clients a {@linkcode DrainContext} serves: protocol-aware ones per codec, or plain ones. */
export type DrainContextName = CodecName | "plain";

/**
 * The contexts of a hub: JSON and plain from the start; MessagePack once a
 * client asks for it and its codec is loaded ({@linkcode DrainContexts.add}).
 */
export interface DrainContexts {
  readonly json: DrainContext;
  readonly plain: DrainContext;
  /** Present once added. */
  msgpack: DrainContext | undefined;
  /** Adds the context of a codec loaded later (MessagePack), sharing everything else. */
  add(codec: Codec): DrainContext;
}

/**
 * One {@linkcode DrainContext} per codec for protocol-aware clients, sharing
 * the chunk limit, the compressor and one sequence of chunked-message ids, and
 * one for plain clients: JSON, frames whole (a plain client cannot reassemble
 * `chunked.*` frames).
 *
 * @throws {RangeError} when `chunkBytes` is neither 0 nor at least {@linkcode MIN_CHUNK_BYTES}.
 */
export function createDrainContexts(options: DrainContextsOptions): DrainContexts {
  const { chunkBytes, compressor, onFrame, onChunked } = options;
  if (chunkBytes !== 0 && !(chunkBytes >= MIN_CHUNK_BYTES)) {
    throw new RangeError(
      `chunkBytes must be 0 (off) or at least ${MIN_CHUNK_BYTES}, got ${chunkBytes}`,
    );
  }
  let messageId = 0;
  const context = (codec: Codec, chunked = true): DrainContext => ({
    builder: new FrameBuilder({
      codec,
      chunkBytes: chunkBytes === 0 || !chunked ? Infinity : chunkBytes,
      nextMessageId: () => ++messageId,
    }),
    compressor,
    onFrame,
    onChunked,
  });
  return {
    json: context(jsonCodec()),
    plain: context(jsonCodec(), false),
    msgpack: undefined,
    add(codec) {
      const made = context(codec);
      if (codec.name === "msgpack") this.msgpack = made;
      return made;
    },
  };
}
