/**
 * Pure framing functions: each turns values into the exact text of one frame.
 * The server encodes a published message once and reuses the text for every
 * client; batches are built by joining already-encoded frames, never by
 * re-serialising their data.
 *
 * @module
 */
import type {
  ErrorFrame,
  GapReason,
  MessageOp,
  PingFrame,
  PongFrame,
  SnapshotFrame,
  WelcomeFrame,
} from "./frames.ts";

/** The fields of a published message, as the server holds them. */
export interface MessageFields {
  topic: string;
  seq: number;
  key?: string;
  ts: number;
  /** Absent for a whole value; see {@linkcode MessageOp}. */
  op?: MessageOp;
  data: unknown;
}

/**
 * Encodes a `message` frame.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./encode.ts";
 * encodeMessage({ topic: "t", seq: 1, ts: 1.5, data: 7 });
 * // '{"type":"message","topic":"t","seq":1,"ts":1.5,"data":7}'
 * ```
 */
export function encodeMessage(m: MessageFields): string {
  if (m.op !== undefined) return JSON.stringify(messageObject(m));
  return m.key === undefined
    ? JSON.stringify({ type: "message", topic: m.topic, seq: m.seq, ts: m.ts, data: m.data })
    : JSON.stringify({
      type: "message",
      topic: m.topic,
      seq: m.seq,
      key: m.key,
      ts: m.ts,
      data: m.data,
    });
}

const utf8 = new TextEncoder();

/**
 * Encodes a `message` frame as UTF-8 bytes around its data's JSON, already
 * encoded (`dataJson`; undefined when the message carries no data): the same
 * text {@linkcode encodeMessage} makes, without serialising the data again.
 * Bytes live outside the V8 heap, so a message queued for many clients, or for
 * long, adds little to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMessage, encodeMessageBytes } from "./encode.ts";
 * const m = { topic: "t", seq: 1, ts: 1.5, data: { a: "é" } };
 * const bytes = encodeMessageBytes(m, new TextEncoder().encode(JSON.stringify(m.data)));
 * assert.equal(new TextDecoder().decode(bytes), encodeMessage(m));
 * ```
 */
export function encodeMessageBytes(
  m: Omit<MessageFields, "data">,
  dataJson: Uint8Array | undefined,
): Uint8Array {
  const head = messageObject({ ...m, data: undefined });
  if (dataJson === undefined || m.op === "delete") return utf8.encode(JSON.stringify(head));
  return withJsonField(head, "data", dataJson);
}

/**
 * The UTF-8 JSON of `head` with one more field, `field`, whose value is
 * already-encoded JSON (`json`), written last: how frames are built around a
 * payload encoded once. The value starts `json.length + 1` bytes before the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withJsonField } from "./encode.ts";
 * const out = withJsonField({ type: "snapshot" }, "state", new TextEncoder().encode('{"k":1}'));
 * assert.equal(new TextDecoder().decode(out), '{"type":"snapshot","state":{"k":1}}');
 * ```
 */
export function withJsonField(head: object, field: string, json: Uint8Array): Uint8Array {
  // The head without its closing brace, then `,"<field>":`, the value and the brace.
  const open = JSON.stringify(head).slice(0, -1);
  const prefix = `${open}${open.length > 1 ? "," : ""}${JSON.stringify(field)}:`;
  const out = new Uint8Array(utf8Length(prefix) + json.length + 1);
  const { written } = utf8.encodeInto(prefix, out);
  out.set(json, written);
  out[written + json.length] = 0x7d; // }
  return out;
}

/**
 * The largest `gap` frame, in bytes: a 128-character topic, two 16-digit seqs
 * and the longest reason come to 233 bytes of JSON (less in MessagePack).
 */
export const MAX_GAP_BYTES = 256;

/**
 * The `message` frame as an object, for codecs other than JSON text: `key`
 * and `op` are undefined when absent, and a delete carries no `data`.
 */
export function messageObject(m: MessageFields): Record<string, unknown> {
  return {
    type: "message",
    topic: m.topic,
    seq: m.seq,
    key: m.key,
    ts: m.ts,
    op: m.op,
    data: m.op === "delete" ? undefined : m.data,
  };
}

/** Encodes a `gap` frame for seqs `fromSeq..toSeq` inclusive. */
export function encodeGap(
  topic: string,
  fromSeq: number,
  toSeq: number,
  reason: GapReason,
): string {
  return JSON.stringify({ type: "gap", topic, fromSeq, toSeq, reason });
}

/**
 * Joins already-encoded `message`/`gap` frames into one `batch` frame without
 * parsing them again.
 *
 * @example
 * ```ts
 * import { encodeBatch } from "./encode.ts";
 * encodeBatch(['{"type":"message"}', '{"type":"gap"}']);
 * // '{"type":"batch","messages":[{"type":"message"},{"type":"gap"}]}'
 * ```
 */
export function encodeBatch(frames: readonly string[]): string {
  return `{"type":"batch","messages":[${frames.join(",")}]}`;
}

const BATCH_OPEN = utf8.encode(`{"type":"batch","messages":[`);

/**
 * Joins encoded `message`/`gap` frames, text or UTF-8 bytes, into one `batch`
 * frame's UTF-8 bytes: {@linkcode encodeBatch} for frames held as bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBatchBytes } from "./encode.ts";
 * const bytes = encodeBatchBytes([new TextEncoder().encode('{"type":"message"}'), '{"type":"gap"}']);
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"type":"batch","messages":[{"type":"message"},{"type":"gap"}]}',
 * );
 * ```
 */
export function encodeBatchBytes(frames: readonly (string | Uint8Array)[]): Uint8Array {
  const parts = frames.map((f) => typeof f === "string" ? utf8.encode(f) : f);
  let size = BATCH_OPEN.length + 2 + Math.max(0, parts.length - 1);
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  out.set(BATCH_OPEN);
  let off = BATCH_OPEN.length;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[off++] = 0x2c; // ,
    out.set(parts[i], off);
    off += parts[i].length;
  }
  out[off++] = 0x5d; // ]
  out[off] = 0x7d; // }
  return out;
}

/** Encodes a `welcome` frame. */
export function encodeWelcome(f: Omit<WelcomeFrame, "type">): string {
  return JSON.stringify({ type: "welcome", ...f });
}

/** Encodes a `snapshot` frame. */
export function encodeSnapshot(f: Omit<SnapshotFrame, "type">): string {
  return JSON.stringify({ type: "snapshot", topic: f.topic, seq: f.seq, state: f.state });
}

/** Encodes a `subscribed` frame. */
export function encodeSubscribed(topic: string, seq: number): string {
  return JSON.stringify({ type: "subscribed", topic, seq });
}

/** Encodes an `error` frame. */
export function encodeError(f: Omit<ErrorFrame, "type">): string {
  return JSON.stringify({ type: "error", ...f });
}

/** Encodes an `ack` frame. */
export function encodeAck(id: string | number, seq: number): string {
  return JSON.stringify({ type: "ack", id, seq });
}

/** Encodes a `ping` frame. */
export function encodePing(id?: number): string {
  const f: PingFrame = id === undefined ? { type: "ping" } : { type: "ping", id };
  return JSON.stringify(f);
}

/** Encodes a `pong` frame. */
export function encodePong(id?: number): string {
  const f: PongFrame = id === undefined ? { type: "pong" } : { type: "pong", id };
  return JSON.stringify(f);
}

/**
 * Number of bytes `text` takes in UTF-8, without encoding it.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./encode.ts";
 * utf8Length("é€😀"); // 2 + 3 + 4 = 9
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2; // 4 bytes for 2 UTF-16 units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
