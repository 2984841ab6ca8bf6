/**
 * What `/stats` shows for one client.
 *
 * @module
 */
import type { CodecName } from "../protocol/codec.ts";
import type { ClientLevel } from "../protocol/subprotocol.ts";
import type { ProgressKind } from "./read_progress.ts";

/** Per-client numbers shown in `/stats`. */
export interface ClientStats {
  id: string;
  remote: string;
  connectedAt: string;
  connectedMs: number;
  topics: string[];
  queue: { messages: number; items: number; bytes: number };
  sent: { messages: number; frames: number; bytes: number; gaps: number };
  dropped: number;
  coalesced: number;
  bufferedAmount: number;
  inflightBytes: number;
  /** Unconfirmed bytes allowed now: what the client reads in half of `--max-lag`. */
  windowBytes: number;
  blocked: boolean;
  /** Reads more than `--max-lag` behind (`--max-lag`). */
  lagged: boolean;
  slow: boolean;
  lastPongAgoMs: number | null;
  /** `plain` (no `floodgate.v1.*` subprotocol) or `protocol`. */
  level: ClientLevel;
  /** What its flow control runs on: app `ping`s, WebSocket pings, or the engine's unsent bytes. */
  progress: ProgressKind;
  codec: CodecName;
  /** Whether frames go out compressed (permessage-deflate negotiated). */
  deflate: boolean;
  /** The chunked message being sent: chunk frames sent of its total. */
  chunked: { sent: number; total: number } | null;
}
