/**
 * The options of `connect` and the shapes the client hands back.
 *
 * @module
 */
import type { BackoffOptions } from "./backoff.ts";
import type { CodecName } from "../protocol/codec.ts";
import type { KeyedState } from "./keyed_state.ts";

/**
 * Bounds on reassembling the server's chunked frames, so that a broken or
 * hostile stream cannot grow the client without limit. A transfer that breaks
 * one is discarded with an `error` event (`chunk_too_large`, `chunk_limit`,
 * `chunk_sequence` or `chunk_timeout`).
 */
export interface ChunkLimits {
  /**
   * Largest reassembled frame, in bytes; a larger `totalBytes` is refused at
   * `chunked.start`.
   * @default {16777216}
   */
  maxMessageBytes?: number;
  /**
   * Bytes all unfinished transfers may hold together, counted from their
   * `totalBytes` at `chunked.start`.
   * @default {33554432}
   */
  maxPendingBytes?: number;
  /**
   * Unfinished transfers held at once.
   * @default {4}
   */
  maxTransfers?: number;
  /**
   * A transfer not finished this many milliseconds after its `chunked.start`
   * is discarded.
   * @default {30000}
   */
  timeoutMs?: number;
}

/** Options of `connect`. */
export interface ConnectOptions {
  /**
   * Token sent as `?token=` on every connect and as `Authorization: Bearer` on
   * state refetches. A function is called before each connect, so it can
   * renew an expiring token.
   */
  token?: string | (() => string | Promise<string>);
  /** Topics to subscribe to at once (without handlers; read them with `on("message")` or `state()`). */
  topics?: string[];
  /**
   * Wire codec. `"msgpack"` asks for the `floodgate.v1.msgpack` subprotocol; the
   * codec actually used is the one the server selects (JSON when it selects none).
   * @default {"json"}
   */
  codec?: CodecName;
  /** Reconnect delays, or `false` to stay closed after the first close. */
  reconnect?: BackoffOptions | false;
  /**
   * Declare the connection dead (and reconnect) when no frame arrived for this
   * long. The server pings at least every `heartbeatMs` (from `welcome`).
   * @default {2 × heartbeatMs + 5000}
   */
  livenessTimeoutMs?: number;
  /**
   * Give up on a connection attempt without `welcome` after this long.
   * @default {10000}
   */
  connectTimeoutMs?: number;
  /** Limits on reassembling chunked frames. */
  chunks?: ChunkLimits;
  /**
   * After a gap on a keyed topic, refetch its state with
   * `GET /topics/:topic/state` and replace the store.
   * @default {true}
   */
  refetchOnGap?: boolean;
  /**
   * Base URL of the HTTP API, for state refetches.
   * @default {the WebSocket URL with http(s) and without the trailing /ws}
   */
  httpUrl?: string;
  /** WebSocket implementation. @default {globalThis.WebSocket} */
  WebSocket?: typeof WebSocket;
  /** fetch implementation. @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Random source for the backoff jitter. @default {Math.random} */
  random?: () => number;
}

/** A topic subscription. */
export interface Subscription {
  readonly topic: string;
  /** The topic's keyed state. */
  readonly state: KeyedState;
  /**
   * Removes this subscription's handler; the topic is unsubscribed when none is
   * left, unless it was named in `connect({topics})` or read with `state()`.
   */
  unsubscribe(): void;
}

/** Running totals of a client. */
export interface ClientStats {
  /** Messages handed to handlers. */
  messages: number;
  /** WebSocket messages received. */
  frames: number;
  /** Gaps seen (server frames and seq jumps). */
  gaps: number;
  /** Duplicate messages skipped. */
  duplicates: number;
  /** Reconnect attempts. */
  reconnects: number;
  /** Chunked frames reassembled. */
  chunkedFrames: number;
}
