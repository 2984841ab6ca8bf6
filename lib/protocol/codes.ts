/**
 * The one table of close codes and error codes. Clients and the docs rely on
 * these values: never renumber one.
 *
 * @module
 */

/** WebSocket close codes the server uses, with the reason text it sends. */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** The server is shutting down; reconnect (to another instance) and resume. */
  GoingAway: 1001,
  /** A policy was broken, e.g. the inbound message rate limit. */
  PolicyViolation: 1008,
  /** An inbound frame was larger than `--max-inbound-bytes`. */
  MessageTooBig: 1009,
  /** The server failed unexpectedly. */
  InternalError: 1011,
  /** The shared history was lost (a new epoch began); reconnect and resume. */
  ServiceRestart: 1012,
  /** No valid token was presented. */
  Unauthorized: 4001,
  /** The token is valid but does not allow this, or the Origin is not allowed. */
  Forbidden: 4003,
  /**
   * The client did not take what was waiting for it: its queue stayed full,
   * dropped too much, or its pings went unanswered while data waited for it.
   */
  SlowConsumer: 4008,
  /**
   * Nothing was waiting for the client and it answered no ping (an RFC 6455
   * ping for plain clients, `ping {id}` for protocol-aware ones) in time.
   */
  HeartbeatTimeout: 4009,
  /** The token expired while the connection was open. */
  TokenExpired: 4010,
} as const;

/** A close code from {@linkcode CloseCode}. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** Human-readable reason sent with each close code. */
export const closeReason: Record<CloseCode, string> = {
  1000: "normal closure",
  1001: "server shutting down",
  1008: "policy violation",
  1009: "message too big",
  1011: "internal error",
  1012: "history lost, reconnect and resume",
  4001: "unauthorized",
  4003: "forbidden",
  4008: "slow consumer",
  4009: "heartbeat timeout",
  4010: "token expired",
};

/** Stable error codes carried by `error` frames and HTTP error bodies. */
export const ErrorCode = {
  /** The frame or body is not valid JSON. */
  BadJson: "bad_json",
  /** The frame's `type` is not one the server knows. */
  UnknownType: "unknown_type",
  /** A field is missing or has the wrong type. */
  InvalidFrame: "invalid_frame",
  /** A topic name breaks the naming rules. */
  InvalidTopic: "invalid_topic",
  /** The frame or body is larger than allowed. */
  TooLarge: "too_large",
  /** No valid credentials. */
  Unauthorized: "unauthorized",
  /** Credentials do not allow this. */
  Forbidden: "forbidden",
  /** Too many requests or frames. */
  RateLimited: "rate_limited",
  /** A configured limit (topics per connection, connections) was reached. */
  LimitReached: "limit_reached",
  /** Not found. */
  NotFound: "not_found",
  /** The cluster bus is unreachable; nothing was published. Retry later. */
  Unavailable: "unavailable",
  /** The server is over its memory budget (`--memory-budget`); nothing was done. Retry later. */
  Overloaded: "overloaded",
  /** The server failed unexpectedly. */
  Internal: "internal",
} as const;

/** An error code from {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];
