/**
 * The Floodgate wire protocol: frame types, codes, validation and pure framing
 * functions. Shared by the server and the client SDK; imports nothing of either.
 *
 * @module
 */
export * from "./frames.ts";
export * from "./codes.ts";
export * from "./protocol_error.ts";
export * from "./topic_name.ts";
export * from "./parse.ts";
export * from "./encode.ts";
export * from "./chunking.ts";
export * from "./chunk_assembler.ts";
export * from "./codec.ts";
export * from "./merge_patch.ts";
export * from "./bytes.ts";
export * from "./metrics_sample.ts";
export * from "./subprotocol.ts";
export * from "./wire_ping.ts";
