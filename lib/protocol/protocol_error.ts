import type { ErrorCode } from "./codes.ts";

/**
 * An error in what a peer sent, with a stable {@linkcode ErrorCode} the peer can
 * act on. The server answers it with an `error` frame (or an HTTP 4xx) and keeps
 * serving.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "./protocol_error.ts";
 * const err = new ProtocolError("invalid_topic", 'Topic "a b" has a space');
 * console.log(err.code); // "invalid_topic"
 * ```
 */
export class ProtocolError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** The `id` of the client frame that caused it, if any. */
  readonly id?: string | number;

  constructor(code: ErrorCode, message: string, options?: { id?: string | number }) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
    this.id = options?.id;
  }
}
