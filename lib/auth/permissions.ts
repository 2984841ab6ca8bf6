import { TopicPatterns } from "./topic_patterns.ts";

/** What one connection or publisher may do, as the hub checks it. */
export interface Permissions {
  /** Who this is, for logs and per-token rate limits. */
  readonly identity: string;
  canSubscribe(topic: string): boolean;
  canPublish(topic: string): boolean;
  /** When the credentials expire (epoch ms), if they do. */
  readonly expiresAt?: number;
}

/** Permissions from topic pattern lists. */
export class PatternPermissions implements Permissions {
  readonly identity: string;
  readonly expiresAt?: number;
  readonly #subscribe: TopicPatterns;
  readonly #publish: TopicPatterns;

  constructor(
    identity: string,
    subscribe: TopicPatterns,
    publish: TopicPatterns,
    expiresAt?: number,
  ) {
    this.identity = identity;
    this.#subscribe = subscribe;
    this.#publish = publish;
    this.expiresAt = expiresAt;
  }

  /** Everything allowed: local development with no auth configured. */
  static open(identity: string): PatternPermissions {
    return new PatternPermissions(identity, TopicPatterns.all(), TopicPatterns.all());
  }

  canSubscribe(topic: string): boolean {
    return this.#subscribe.matches(topic);
  }

  canPublish(topic: string): boolean {
    return this.#publish.matches(topic);
  }
}
