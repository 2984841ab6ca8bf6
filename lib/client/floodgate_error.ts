/** An `error` frame from the server, or a failed request, with its protocol error code. */
export class FloodgateError extends Error {
  /** The protocol's error code (e.g. `forbidden`), or a client one (`not_connected`, …). */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "FloodgateError";
    this.code = code;
  }
}
