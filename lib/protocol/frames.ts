/**
 * Frame types of the Floodgate WebSocket protocol, version 1.
 *
 * Every frame is one JSON object with a `type` field, sent as one WebSocket text
 * frame. The full contract, with examples, is in `docs/protocol.md`. This module is
 * shared by the server and the client SDK and imports nothing of either.
 *
 * @module
 */

/** Why a client did not receive some seqs of a topic. */
export type GapReason =
  /** A newer message with the same key replaced the skipped ones in the client's queue. */
  | "coalesced"
  /** The client's queue overflowed and its oldest messages were dropped. */
  | "dropped"
  /** The client asked to resume from a seq the server's history no longer holds. */
  | "history_exceeded"
  /** The client resumed across a server epoch change (history lost, e.g. a restart). */
  | "epoch_changed"
  /** The cluster bus could not deliver these seqs to this instance. */
  | "bus_outage";

/** Sent once, right after the connection opens. */
export interface WelcomeFrame {
  type: "welcome";
  /** Unique id of this connection, as shown in `/stats`. */
  clientId: string;
  /** Changes whenever the server's history is lost; seqs are only comparable within one epoch. */
  epoch: string;
  /** The server sends a `ping` at least this often; answer each with `pong`. */
  heartbeatMs: number;
}

/** The keyed state of a topic: the latest `data` per key, as of `seq`. */
export interface SnapshotFrame {
  type: "snapshot";
  topic: string;
  /** Messages with a seq above this follow the snapshot. */
  seq: number;
  state: Record<string, unknown>;
}

/**
 * Confirms a subscription: messages of `topic` with a seq above `seq` follow.
 * Sent after the topic's `snapshot` (if any) and any `gap` of a resume.
 */
export interface SubscribedFrame {
  type: "subscribed";
  topic: string;
  seq: number;
}

/**
 * How a keyed message changes its key's state: absent, `data` replaces it; `"patch"`, `data` is
 * a JSON Merge Patch (RFC 7396) to apply to it; `"delete"`, the key is removed (no `data`).
 */
export type MessageOp = "patch" | "delete";

/** One published message. */
export interface MessageFrame {
  type: "message";
  topic: string;
  /** Rises by exactly one per publish on the topic. */
  seq: number;
  /** The state key this message updates, when it was published with one. */
  key?: string;
  /** Publish time in epoch milliseconds, with sub-millisecond precision. */
  ts: number;
  /** Absent for a whole value; see {@linkcode MessageOp}. */
  op?: MessageOp;
  /** The value, or the merge patch when `op` is `"patch"`; absent when `op` is `"delete"`. */
  data?: unknown;
}

/**
 * Opens a chunked message: a frame larger than the chunk limit follows as
 * `totalChunks` `chunked.data` frames and one `chunked.end`. Other frames may
 * arrive between them.
 */
export interface ChunkedStartFrame {
  type: "chunked.start";
  /** Identifies the chunked message; unique within the connection while it is open. */
  messageId: number;
  totalChunks: number;
  /** Size of the whole frame: UTF-8 bytes of its text, or bytes of its MessagePack. */
  totalBytes: number;
}

/**
 * One piece of a chunked message, `chunkIndex` 0, 1, 2, … in order. Joining
 * every `data` in order gives the original frame: text pieces form its JSON
 * text, byte pieces (MessagePack) its bytes.
 */
export interface ChunkedDataFrame {
  type: "chunked.data";
  messageId: number;
  chunkIndex: number;
  data: string | Uint8Array;
}

/** Closes a chunked message: the joined pieces are handled as one frame now. */
export interface ChunkedEndFrame {
  type: "chunked.end";
  messageId: number;
}

/** The three frames of the chunked framing. */
export type ChunkedFrame = ChunkedStartFrame | ChunkedDataFrame | ChunkedEndFrame;

/** Seqs `fromSeq..toSeq` (inclusive) of `topic` will never be delivered to this client. */
export interface GapFrame {
  type: "gap";
  topic: string;
  fromSeq: number;
  toSeq: number;
  reason: GapReason;
}

/**
 * Several frames in one WebSocket frame, to be handled in order as if each had
 * arrived alone. Elements are `message` and `gap` frames.
 */
export interface BatchFrame {
  type: "batch";
  messages: (MessageFrame | GapFrame)[];
}

/** Something the client sent could not be handled; the connection stays open. */
export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  /** The `id` of the client frame this error answers, when it had one. */
  id?: string | number;
}

/** Answers a client `publish` that carried an `id`. */
export interface AckFrame {
  type: "ack";
  id: string | number;
  /** The seq the message was given. */
  seq: number;
}

/**
 * Liveness and flow control, sent by either side. The receiver answers with a
 * `pong` carrying the same `id`. The server's `id` is the number of bytes it had
 * sent before the ping, so a `pong` tells it how much the client has read.
 */
export interface PingFrame {
  type: "ping";
  id?: number;
}

/** The answer to a `ping`. */
export interface PongFrame {
  type: "pong";
  id?: number;
}

/** Every frame the server sends. */
export type ServerFrame =
  | WelcomeFrame
  | SnapshotFrame
  | SubscribedFrame
  | MessageFrame
  | BatchFrame
  | GapFrame
  | ErrorFrame
  | AckFrame
  | PingFrame
  | PongFrame
  | ChunkedFrame;

/** Subscribe to topics; with `since`, resume each listed topic after that seq. */
export interface SubscribeFrame {
  type: "subscribe";
  topics: string[];
  /** Last seq the client has per topic, to resume from. */
  since?: Record<string, number>;
  /** The epoch the `since` seqs belong to (from an earlier `welcome`). */
  epoch?: string;
}

/** Stop receiving topics. */
export interface UnsubscribeFrame {
  type: "unsubscribe";
  topics: string[];
}

/**
 * Publish one message to a topic: `data` (a whole value), or, for a `key`,
 * `patch` (a JSON Merge Patch object to apply to its state) or `delete: true`.
 */
export interface PublishFrame {
  type: "publish";
  topic: string;
  data?: unknown;
  key?: string;
  /** A JSON Merge Patch (RFC 7396) for the key's state. Needs `key`. */
  patch?: Record<string, unknown>;
  /** Removes the key from the topic's state. Needs `key`. */
  delete?: true;
  /** When present, the server answers with an `ack` (or an `error`) carrying it. */
  id?: string | number;
}

/** Every frame a client may send. */
export type ClientFrame =
  | SubscribeFrame
  | UnsubscribeFrame
  | PublishFrame
  | PingFrame
  | PongFrame
  | ChunkedFrame;
