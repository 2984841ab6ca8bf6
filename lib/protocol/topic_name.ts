import { ProtocolError } from "./protocol_error.ts";

/** Longest topic name accepted, in characters. */
export const MAX_TOPIC_LENGTH = 128;
/** Longest state key accepted, in characters. */
export const MAX_KEY_LENGTH = 256;

const TOPIC_RE = /^\$?[A-Za-z0-9][A-Za-z0-9_.:\-\/]*$/;

/**
 * Checks a topic name: 1 to 128 characters from `A-Z a-z 0-9 _ . : - /`, starting
 * with a letter or digit. A leading `$` marks a system topic: clients may
 * subscribe to it but only the server publishes to it.
 *
 * @throws {ProtocolError} `invalid_topic` with a message saying what to change.
 *
 * @example
 * ```ts
 * import { validateTopic } from "./topic_name.ts";
 * validateTopic("sessions"); // ok
 * validateTopic("$metrics"); // ok, a system topic
 * ```
 */
export function validateTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new ProtocolError(
      "invalid_topic",
      `Topic must be a non-empty string, got ${JSON.stringify(topic) ?? String(topic)}`,
    );
  }
  if (topic.length > MAX_TOPIC_LENGTH) {
    throw new ProtocolError(
      "invalid_topic",
      `Topic "${
        topic.slice(0, 32)
      }…" is ${topic.length} characters; the limit is ${MAX_TOPIC_LENGTH}`,
    );
  }
  if (!TOPIC_RE.test(topic)) {
    throw new ProtocolError(
      "invalid_topic",
      `Topic "${topic}" is not allowed: use letters, digits and _ . : - /, starting with a letter or digit`,
    );
  }
}

/** True for system topics (`$…`), which only the server publishes to. */
export function isSystemTopic(topic: string): boolean {
  return topic.charCodeAt(0) === 36; // "$"
}

/**
 * Checks a state key: a non-empty string of at most 256 characters.
 *
 * @throws {ProtocolError} `invalid_frame` when it is not.
 */
export function validateKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new ProtocolError(
      "invalid_frame",
      `Key must be a string of 1 to ${MAX_KEY_LENGTH} characters, got ${
        JSON.stringify(key)?.slice(0, 40) ?? String(key)
      }`,
    );
  }
}
