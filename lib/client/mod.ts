/**
 * The Floodgate client SDK, for browsers and Deno: connect, subscribe, keyed
 * state, resume, gaps, batches, chunked frames and both codecs.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@floodgate/floodgate/client";
 * const fg = connect("ws://localhost:8080/ws", { token: "…" });
 * fg.subscribe("sessions", (msg) => console.log(msg.seq, msg.key, msg.data));
 * const sessions = fg.state("sessions");
 * sessions.onChange(({ changed }) => changed.forEach((k) => render(k, sessions.get(k))));
 * ```
 *
 * @module
 */
export {
  CLIENT_LIVENESS_CLOSE,
  type ClientStats,
  connect,
  type ConnectOptions,
  FloodgateClient,
  FloodgateError,
  type Subscription,
} from "./client.ts";
export type * from "./events.ts";
export { type EntryMeta, KeyedState, type StateCause, type StateChange } from "./keyed_state.ts";
export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export type { ChunkLimits } from "./connect_options.ts";
// The wire itself is the protocol module's, the same code the server runs.
export { ChunkAssembler, type ChunkAssemblerOptions } from "../protocol/chunk_assembler.ts";
export {
  type Codec,
  type CodecName,
  createCodec,
  decodeFrame,
  jsonCodec,
  msgpackCodec,
  type ReceivedFrame,
} from "../protocol/codec.ts";
export { ProtocolError } from "../protocol/protocol_error.ts";
export type * from "../protocol/frames.ts";
export { applyMergePatch } from "../protocol/merge_patch.ts";
