/**
 * The SDK's public event and message types.
 *
 * @module
 */
import type { GapReason, MessageFrame } from "../protocol/frames.ts";
import type { StateChange } from "./keyed_state.ts";

/**
 * A message as handlers receive it: the `message` frame itself. With `op:
 * "patch"` its `data` is a JSON Merge Patch for the key's value; with `op:
 * "delete"` the key is removed and there is no `data`.
 */
export type Message<T = unknown> = Omit<MessageFrame, "data"> & { data: T };

/** Called with each message of a subscribed topic, in seq order. */
export type MessageHandler<T = unknown> = (message: Message<T>) => void;

/** Where the connection is. */
export type ConnectionStatus =
  /** Opening a socket, or waiting for the server's `welcome`. */
  | "connecting"
  /** `welcome` received; subscriptions are (re)sent. */
  | "open"
  /** The socket closed; a reconnect is scheduled. */
  | "reconnecting"
  /** Closed for good: {@linkcode FloodgateClient.close} was called or the server refused us. */
  | "closed";

/**
 * Why seqs are missing: the server's reasons, or `missing` when the client
 * noticed a jump in seqs that no `gap` frame explained (e.g. a chunked message
 * discarded by the client's limits).
 */
export type ClientGapReason = GapReason | "missing";

/** Payload of the `gap` event. */
export interface GapEvent {
  topic: string;
  fromSeq: number;
  toSeq: number;
  reason: ClientGapReason;
  /** True when the client refetches the topic's keyed state because of this gap. */
  refetch: boolean;
}

/** Payload of the `open` event. */
export interface OpenEvent {
  clientId: string;
  epoch: string;
  heartbeatMs: number;
  /** True on a reconnect (subscriptions are resumed from their last seqs). */
  resumed: boolean;
  /** True when the server's epoch differs from the last connection's: its history was lost. */
  epochChanged: boolean;
  /** The negotiated codec. */
  codec: "json" | "msgpack";
}

/** Payload of the `close` event. */
export interface CloseEvent {
  code: number;
  reason: string;
  /** Milliseconds until the next attempt, or undefined when the client will not reconnect. */
  reconnectInMs?: number;
}

/** Payload of the `snapshot` event. */
export interface SnapshotEvent {
  topic: string;
  seq: number;
  state: Record<string, unknown>;
}

/** Payload of the `resync` event: a keyed topic was refetched after a gap. */
export interface ResyncEvent {
  topic: string;
  /** The seq the refetched state reflects. */
  seq: number;
}

/**
 * Why the client discarded a chunked frame of the server: larger than
 * `chunks.maxMessageBytes`, or more data than announced (`chunk_too_large`);
 * over `chunks.maxPendingBytes` or `chunks.maxTransfers` (`chunk_limit`);
 * pieces missing, out of order or malformed (`chunk_sequence`); not finished
 * within `chunks.timeoutMs` (`chunk_timeout`).
 */
export type ChunkErrorCode =
  | "chunk_too_large"
  | "chunk_limit"
  | "chunk_sequence"
  | "chunk_timeout";

/**
 * Payload of the `error` event: an `error` frame from the server (its `code`
 * is one of the protocol's error codes) or a client-side problem:
 * `bad_frame` (undecodable), a {@linkcode ChunkErrorCode} (a chunked message
 * was discarded), `refetch_failed`, `liveness_timeout`, `connect_failed`.
 */
export interface ErrorEvent {
  code: string;
  message: string;
  /** The `id` of the client frame the server's error answers. */
  id?: string | number;
  /** The topic concerned, when there is one. */
  topic?: string;
}

/** Payload of the `status` event. */
export interface StatusEvent {
  status: ConnectionStatus;
  previous: ConnectionStatus;
}

/** Every event of a client and its payload. */
export interface ClientEvents {
  /** The connection status changed. */
  status: StatusEvent;
  /** A `welcome` arrived: the connection is usable. */
  open: OpenEvent;
  /** The socket closed. */
  close: CloseEvent;
  /** Seqs of a topic will never be delivered. */
  gap: GapEvent;
  /** A snapshot replaced a topic's keyed state. */
  snapshot: SnapshotEvent;
  /** A topic's keyed state changed (any cause). */
  state: StateChange;
  /** A keyed topic's state was refetched after a gap. */
  resync: ResyncEvent;
  /** Any message of any topic, after its topic's handlers. */
  message: Message;
  /** Something went wrong; the client carries on. */
  error: ErrorEvent;
}
