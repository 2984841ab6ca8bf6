/**
 * Errors an engine catches instead of letting them take the process down:
 * a throw in the hub's {@linkcode SocketHandlers} closes only that
 * connection (1011) and is reported; every other connection goes on.
 *
 * @module
 */
import type { SocketHandlers } from "./socket.ts";

/** Where an engine caught an error: in one of the {@linkcode SocketHandlers}, or in its own plumbing. */
export type EngineErrorSite =
  | "onOpen"
  | "onMessage"
  | "onPong"
  | "onClose"
  | "upgrade"
  | "listener";

/** Receives an error an engine caught. */
export type EngineErrorHandler = (error: unknown, where: EngineErrorSite) => void;

/** The {@linkcode EngineErrorHandler} used when none is given: one line on stderr. */
export const logEngineError: EngineErrorHandler = (error, where) => {
  console.error(`floodgate: engine error in ${where}:`, error);
};

/** The close code and reason of a connection whose handler threw (RFC 6455 §7.4.1). */
export const HANDLER_FAILED = { code: 1011, reason: "internal error" } as const;

/**
 * Wraps `handlers` so that none of them throws into the engine. When
 * `onOpen`, `onMessage` or `onPong` throws, the error goes to `onError`,
 * `fail` is called once (the engine closes the connection with
 * {@linkcode HANDLER_FAILED}) and later messages and pongs are dropped.
 * `onClose` is always passed on, so the hub still lets go of the connection;
 * a throw there is only reported.
 *
 * @example
 * ```ts
 * import { guardHandlers } from "./engine_errors.ts";
 * const guarded = guardHandlers({
 *   onOpen() {},
 *   onMessage() { throw new Error("bug"); },
 *   onClose() {},
 * }, () => {}, () => console.log("close with 1011"));
 * guarded.onMessage("x"); // does not throw; logs "close with 1011"
 * ```
 */
export function guardHandlers(
  handlers: SocketHandlers,
  onError: EngineErrorHandler,
  fail: () => void,
): SocketHandlers {
  let failed = false;
  const fault = (error: unknown, where: EngineErrorSite) => {
    reportEngineError(onError, error, where);
    if (failed) return;
    failed = true;
    try {
      fail();
    } catch (closeError) {
      reportEngineError(onError, closeError, where);
    }
  };
  const onPong = handlers.onPong;
  return {
    onOpen(socket) {
      try {
        handlers.onOpen(socket);
      } catch (error) {
        fault(error, "onOpen");
      }
    },
    onMessage(data) {
      if (failed) return;
      try {
        handlers.onMessage(data);
      } catch (error) {
        fault(error, "onMessage");
      }
    },
    onPong: onPong && ((data) => {
      if (failed) return;
      try {
        onPong(data);
      } catch (error) {
        fault(error, "onPong");
      }
    }),
    onClose(code, reason) {
      try {
        handlers.onClose(code, reason);
      } catch (error) {
        reportEngineError(onError, error, "onClose");
      }
    },
  };
}

/** Calls `onError`, swallowing what it throws: a broken reporter must not undo the guard. */
export function reportEngineError(
  onError: EngineErrorHandler,
  error: unknown,
  where: EngineErrorSite,
): void {
  try {
    onError(error, where);
  } catch {
    // nowhere left to report to
  }
}
