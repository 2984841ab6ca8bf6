/**
 * What one connection or publisher may do. The {@linkcode Authenticator}
 * hands these out; the hub and the HTTP routes only ask them.
 *
 * @module
 */
import { TopicPatterns } from "./topic_patterns.ts";

/** What one connection or publisher may do, as the hub checks it. */
export interface Permissions {
  /** Who this is, for logs and per-token rate limits. */
  readonly identity: string;
  /** True when this holder may subscribe to (or read the state of) `topic`. */
  canSubscribe(topic: string): boolean;
  /** True when this holder may publish to `topic`. */
  canPublish(topic: string): boolean;
  /** When the credentials expire (epoch ms), if they do. */
  readonly expiresAt?: number;
  /**
   * What a holder that may publish nowhere must present to publish, for the
   * refusal's message (as in "connect with ?token=…"); undefined for token
   * holders, whose refusal says their token does not allow the topic.
   */
  readonly publishHelp?: string;
}

/** Options of {@linkcode PatternPermissions} beyond the pattern lists. */
export interface PatternPermissionsOptions {
  /** When the credentials expire (epoch ms). @default {undefined} (never) */
  expiresAt?: number;
  /** See {@linkcode Permissions.publishHelp}. @default {undefined} */
  publishHelp?: string;
}

/**
 * Permissions from topic pattern lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternPermissions } from "./permissions.ts";
 * import { TopicPatterns } from "./topic_patterns.ts";
 *
 * const bot = new PatternPermissions("sub:bot", TopicPatterns.all(), new TopicPatterns(["chat.*"]));
 * assert.equal(bot.canPublish("chat.room1"), true);
 * assert.equal(bot.canPublish("sessions"), false);
 * const reader = PatternPermissions.subscribeOnly("addr:192.0.2.1", "connect with ?token=<t>");
 * assert.equal(reader.canSubscribe("sessions"), true);
 * assert.equal(reader.canPublish("sessions"), false);
 * ```
 */
export class PatternPermissions implements Permissions {
  readonly identity: string;
  readonly expiresAt?: number;
  readonly publishHelp?: string;
  readonly #subscribe: TopicPatterns;
  readonly #publish: TopicPatterns;

  constructor(
    identity: string,
    subscribe: TopicPatterns,
    publish: TopicPatterns,
    options: PatternPermissionsOptions = {},
  ) {
    this.identity = identity;
    this.#subscribe = subscribe;
    this.#publish = publish;
    this.expiresAt = options.expiresAt;
    this.publishHelp = options.publishHelp;
  }

  /** Everything allowed: local development with no auth configured, or the publish token. */
  static open(identity: string): PatternPermissions {
    return new PatternPermissions(identity, TopicPatterns.all(), TopicPatterns.all());
  }

  /**
   * Every topic may be subscribed to, none published to: an anonymous
   * WebSocket client of a server with `--publish-token` and no `--jwt-secret`.
   * `publishHelp` says what it would need to publish.
   */
  static subscribeOnly(identity: string, publishHelp: string): PatternPermissions {
    return new PatternPermissions(identity, TopicPatterns.all(), new TopicPatterns(undefined), {
      publishHelp,
    });
  }

  canSubscribe(topic: string): boolean {
    return this.#subscribe.matches(topic);
  }

  canPublish(topic: string): boolean {
    return this.#publish.matches(topic);
  }
}
