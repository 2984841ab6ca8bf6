import type {
  ChunkedFrame,
  ClientFrame,
  MessageOp,
  PublishFrame,
  SubscribeFrame,
} from "./frames.ts";
import { MAX_DATA_DEPTH, nestedDeeperThan } from "./json_depth.ts";
import { ProtocolError } from "./protocol_error.ts";
import { validateKey, validateTopic } from "./topic_name.ts";

/**
 * A message to publish, as accepted over HTTP and WebSocket. With `op`
 * `"patch"`, `data` is the merge patch; with `"delete"`, `data` is null.
 */
export interface PublishInput {
  topic: string;
  data: unknown;
  key?: string;
  op?: MessageOp;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function frameId(obj: Json): string | number | undefined {
  const id = obj.id;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}

/**
 * Validates one publish item: `{topic, data, key?}`, `{topic, key, patch}` (a
 * JSON Merge Patch object) or `{topic, key, delete: true}`. `data` and `patch`
 * may nest objects and arrays at most {@linkcode MAX_DATA_DEPTH} (64) levels
 * deep: a deeper one is refused here, before the bus gives it a seq.
 *
 * @throws {ProtocolError} `invalid_frame` or `invalid_topic`, saying which field is wrong;
 * `invalid_frame` "… nested more than 64 levels deep …" for a too deep `data` or `patch`.
 *
 * @example
 * ```ts
 * import { parsePublishInput } from "./parse.ts";
 * const input = parsePublishInput({ topic: "sessions", key: "s-17", data: { cpu: 3 } });
 * console.log(input.key); // "s-17"
 * ```
 */
export function parsePublishInput(value: unknown): PublishInput {
  if (!isObject(value)) {
    throw new ProtocolError(
      "invalid_frame",
      'A publish must be an object like {"topic": "sessions", "data": {...}}',
    );
  }
  if (value.topic === undefined) {
    throw new ProtocolError("invalid_topic", 'Missing "topic": say which topic to publish to');
  }
  validateTopic(value.topic);
  if (value.key !== undefined) validateKey(value.key);
  const kinds = ("data" in value ? 1 : 0) + ("patch" in value ? 1 : 0) +
    ("delete" in value ? 1 : 0);
  if (kinds !== 1) {
    throw new ProtocolError(
      "invalid_frame",
      kinds === 0
        ? `Missing "data" in publish to "${value.topic}"`
        : `A publish to "${value.topic}" carries exactly one of "data", "patch" or "delete"`,
    );
  }
  const input: PublishInput = { topic: value.topic, data: value.data };
  if (value.key !== undefined) input.key = value.key as string;
  if ("data" in value) {
    checkDepth("data", value.data, value.topic);
    return input;
  }
  if (input.key === undefined) {
    throw new ProtocolError(
      "invalid_frame",
      `"patch" and "delete" change a key's state: add "key" to the publish to "${value.topic}"`,
    );
  }
  if ("delete" in value) {
    if (value.delete !== true) {
      throw new ProtocolError("invalid_frame", '"delete" must be true');
    }
    input.op = "delete";
    input.data = null;
    return input;
  }
  if (!isObject(value.patch)) {
    throw new ProtocolError(
      "invalid_frame",
      '"patch" must be a JSON object (RFC 7396 merge patch); to replace the whole value, send "data"',
    );
  }
  checkDepth("patch", value.patch, value.topic);
  input.op = "patch";
  input.data = value.patch;
  return input;
}

function checkDepth(field: string, value: unknown, topic: string): void {
  if (nestedDeeperThan(value, MAX_DATA_DEPTH)) {
    throw new ProtocolError(
      "invalid_frame",
      `"${field}" of the publish to "${topic}" is nested more than ${MAX_DATA_DEPTH} levels deep (the limit is ${MAX_DATA_DEPTH}); flatten it`,
    );
  }
}

function parseTopicList(obj: Json, type: string): string[] {
  const topics = obj.topics;
  if (!Array.isArray(topics) || topics.length === 0) {
    throw new ProtocolError(
      "invalid_frame",
      `"${type}" needs "topics": a non-empty array of topic names`,
    );
  }
  for (const topic of topics) validateTopic(topic);
  return topics as string[];
}

function parseSince(obj: Json): Record<string, number> | undefined {
  if (obj.since === undefined) return undefined;
  if (!isObject(obj.since)) {
    throw new ProtocolError(
      "invalid_frame",
      '"since" must be an object mapping topic to the last seq received, e.g. {"sessions": 41}',
    );
  }
  const since: Record<string, number> = {};
  for (const [topic, seq] of Object.entries(obj.since)) {
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
      throw new ProtocolError(
        "invalid_frame",
        `"since.${topic}" must be a non-negative integer seq, got ${JSON.stringify(seq)}`,
      );
    }
    since[topic] = seq;
  }
  return since;
}

/**
 * Parses one text frame from a client. The bare text `ping` is accepted as
 * `{"type": "ping"}`.
 *
 * @throws {ProtocolError} `bad_json`, `unknown_type`, `invalid_frame` or
 * `invalid_topic`, with a message that says what to send instead.
 *
 * @example
 * ```ts
 * import { parseClientFrame } from "./parse.ts";
 * const frame = parseClientFrame('{"type":"subscribe","topics":["sessions"]}');
 * console.log(frame.type); // "subscribe"
 * ```
 */
export function parseClientFrame(text: string): ClientFrame {
  if (text === "ping") return { type: "ping" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError(
      "bad_json",
      `Frame is not valid JSON (starts with ${JSON.stringify(text.slice(0, 40))})`,
    );
  }
  return parseClientValue(value);
}

/**
 * Validates one decoded client frame (from JSON text or MessagePack).
 *
 * @throws {ProtocolError} as {@linkcode parseClientFrame} does.
 */
export function parseClientValue(value: unknown): ClientFrame {
  if (!isObject(value)) {
    throw new ProtocolError("invalid_frame", 'A frame must be a JSON object with a "type" field');
  }
  const id = frameId(value);
  try {
    return parseObject(value, id);
  } catch (err) {
    if (err instanceof ProtocolError && id !== undefined && err.id === undefined) {
      throw new ProtocolError(err.code, err.message, { id });
    }
    throw err;
  }
}

function parseObject(value: Json, id: string | number | undefined): ClientFrame {
  switch (value.type) {
    case "subscribe": {
      const frame: SubscribeFrame = {
        type: "subscribe",
        topics: parseTopicList(value, "subscribe"),
      };
      const since = parseSince(value);
      if (since) frame.since = since;
      if (typeof value.epoch === "string") frame.epoch = value.epoch;
      return frame;
    }
    case "unsubscribe":
      return { type: "unsubscribe", topics: parseTopicList(value, "unsubscribe") };
    case "publish": {
      const input = parsePublishInput(value);
      const frame: PublishFrame = { type: "publish", topic: input.topic };
      if (input.key !== undefined) frame.key = input.key;
      if (input.op === "patch") frame.patch = input.data as Record<string, unknown>;
      else if (input.op === "delete") frame.delete = true;
      else frame.data = input.data;
      if (id !== undefined) frame.id = id;
      return frame;
    }
    case "chunked.start":
    case "chunked.data":
    case "chunked.end":
      return parseChunkedFrame(value);
    case "ping":
    case "pong": {
      const pingId = value.id;
      return typeof pingId === "number" ? { type: value.type, id: pingId } : { type: value.type };
    }
    default:
      throw new ProtocolError(
        "unknown_type",
        `Unknown frame type ${
          JSON.stringify(value.type)?.slice(0, 40)
        }; expected subscribe, unsubscribe, publish, ping, pong or chunked.start/data/end`,
      );
  }
}

function count(obj: Json, field: string, min: number): number {
  const n = obj[field];
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
    throw new ProtocolError(
      "invalid_frame",
      `"${obj.type}" needs "${field}": an integer >= ${min}, got ${
        JSON.stringify(n)?.slice(0, 40)
      }`,
    );
  }
  return n;
}

/** True for the three frame types of the chunked framing. */
export function isChunkedType(type: unknown): type is ChunkedFrame["type"] {
  return type === "chunked.start" || type === "chunked.data" || type === "chunked.end";
}

/**
 * Validates a decoded `chunked.start`, `chunked.data` or `chunked.end` frame,
 * from either side: integer ids, counts and sizes, and `data` as text or bytes.
 *
 * @throws {ProtocolError} `invalid_frame`, naming the field.
 *
 * @example
 * ```ts
 * import { parseChunkedFrame } from "./parse.ts";
 * parseChunkedFrame({ type: "chunked.end", messageId: 4 }); // { type: "chunked.end", messageId: 4 }
 * ```
 */
export function parseChunkedFrame(value: Record<string, unknown>): ChunkedFrame {
  const messageId = count(value, "messageId", 0);
  switch (value.type) {
    case "chunked.start":
      return {
        type: "chunked.start",
        messageId,
        totalChunks: count(value, "totalChunks", 1),
        totalBytes: count(value, "totalBytes", 0),
      };
    case "chunked.data": {
      const data = value.data;
      if (typeof data !== "string" && !(data instanceof Uint8Array)) {
        throw new ProtocolError(
          "invalid_frame",
          '"chunked.data" needs "data": a piece of the frame\'s text (or bytes, in MessagePack)',
        );
      }
      return { type: "chunked.data", messageId, chunkIndex: count(value, "chunkIndex", 0), data };
    }
    case "chunked.end":
      return { type: "chunked.end", messageId };
    default:
      throw new ProtocolError(
        "invalid_frame",
        `Not a chunked frame: type ${JSON.stringify(value.type)?.slice(0, 40)}`,
      );
  }
}

/**
 * The {@linkcode PublishInput} a validated `publish` frame asks for.
 *
 * @example
 * ```ts
 * import { publishInputOf } from "./parse.ts";
 * publishInputOf({ type: "publish", topic: "t", key: "k", patch: { a: 1 } });
 * // { topic: "t", key: "k", op: "patch", data: { a: 1 } }
 * ```
 */
export function publishInputOf(frame: PublishFrame): PublishInput {
  const input: PublishInput = { topic: frame.topic, data: frame.data };
  if (frame.key !== undefined) input.key = frame.key;
  if (frame.patch !== undefined) {
    input.op = "patch";
    input.data = frame.patch;
  } else if (frame.delete) {
    input.op = "delete";
    input.data = null;
  }
  return input;
}
