import type { ClientFrame, PublishFrame, SubscribeFrame } from "./frames.ts";
import { ProtocolError } from "./protocol_error.ts";
import { validateKey, validateTopic } from "./topic_name.ts";

/** A message to publish, as accepted over HTTP and WebSocket. */
export interface PublishInput {
  topic: string;
  data: unknown;
  key?: string;
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
 * Validates one publish item (`{topic, data, key?}`).
 *
 * @throws {ProtocolError} `invalid_frame` or `invalid_topic`, saying which field is wrong.
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
  if (!("data" in value)) {
    throw new ProtocolError("invalid_frame", `Missing "data" in publish to "${value.topic}"`);
  }
  if (value.key !== undefined) validateKey(value.key);
  const input: PublishInput = { topic: value.topic, data: value.data };
  if (value.key !== undefined) input.key = value.key as string;
  return input;
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
      const frame: PublishFrame = { type: "publish", ...parsePublishInput(value) };
      if (id !== undefined) frame.id = id;
      return frame;
    }
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
        }; expected subscribe, unsubscribe, publish, ping or pong`,
      );
  }
}
