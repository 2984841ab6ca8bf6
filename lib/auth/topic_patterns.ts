/**
 * A list of allowed topics from a token: exact names, `prefix*` wildcards
 * (`tabs.*` allows `tabs.a` and `tabs.a.b`), or `*` for every topic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicPatterns } from "./topic_patterns.ts";
 *
 * const allowed = new TopicPatterns(["sessions", "tabs.*"]);
 * assert.equal(allowed.matches("tabs.17"), true);
 * assert.equal(allowed.matches("chat"), false);
 * ```
 */
export class TopicPatterns {
  readonly #exact = new Set<string>();
  readonly #prefixes: string[] = [];
  #all = false;

  /**
   * @throws {TypeError} when `patterns` is not an array of strings.
   */
  constructor(patterns: unknown) {
    if (patterns === undefined) return;
    if (!Array.isArray(patterns) || !patterns.every((p): p is string => typeof p === "string")) {
      throw new TypeError(
        `Topic patterns must be an array of strings such as ["sessions", "tabs.*"], got ${
          JSON.stringify(patterns)
        }`,
      );
    }
    for (const p of patterns) {
      if (p === "*") this.#all = true;
      else if (p.endsWith("*")) this.#prefixes.push(p.slice(0, -1));
      else this.#exact.add(p);
    }
  }

  /** Patterns that allow every topic. */
  static all(): TopicPatterns {
    return new TopicPatterns(["*"]);
  }

  /** True when `topic` is allowed. */
  matches(topic: string): boolean {
    if (this.#all || this.#exact.has(topic)) return true;
    for (const prefix of this.#prefixes) if (topic.startsWith(prefix)) return true;
    return false;
  }
}
