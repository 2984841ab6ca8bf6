/**
 * The checks of RFC 6455 §4.2.1 a server makes on a WebSocket opening
 * handshake before it answers 101, shared by both engines: a request that
 * fails one is refused with 400 (or 426 for a version other than 13, §4.4)
 * and a JSON body saying what is wrong, before any app code runs.
 *
 * @module
 */
import type { ErrorCode } from "../protocol/codes.ts";

/** Why a WebSocket upgrade request is refused. */
export interface HandshakeRefusal {
  /** 400 for a malformed request, 426 for an unsupported `Sec-WebSocket-Version`. */
  readonly status: 400 | 426;
  /** What the client must fix, sent in the JSON body. */
  readonly message: string;
}

/** The one protocol version this server speaks (RFC 6455). */
export const WEBSOCKET_VERSION = "13";

/** A base64-encoded 16-byte nonce: 22 characters and `==` (RFC 6455 §4.1, item 7; as `ws` checks). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** The error code of the body, as the app's other upgrade refusals send. */
const CODE: ErrorCode = "invalid_frame";

/** Whether a comma-separated header value holds `token` (case-insensitively). */
function hasToken(value: string | null | undefined, token: string): boolean {
  if (!value) return false;
  return value.split(",").some((part) => part.trim().toLowerCase() === token);
}

/**
 * Whether a request asks for a WebSocket (its `Upgrade` header names
 * `websocket`): the requests {@linkcode checkHandshake} applies to.
 *
 * @param header reads one request header by lower-case name.
 */
export function wantsWebSocket(header: (name: string) => string | null | undefined): boolean {
  return hasToken(header("upgrade"), "websocket");
}

/**
 * Checks the headers of a WebSocket upgrade request: `Connection` must
 * include `Upgrade`, `Sec-WebSocket-Key` must be 16 bytes in base64 and
 * `Sec-WebSocket-Version` must be 13.
 *
 * @param header reads one request header by lower-case name (a repeated
 * header joined with ", ", as `node:http` and `Headers` both do).
 * @returns `undefined` when the handshake may proceed, otherwise the refusal.
 *
 * @example
 * ```ts
 * import { checkHandshake } from "./handshake.ts";
 * const headers = new Headers({ upgrade: "websocket", connection: "Upgrade" });
 * checkHandshake((name) => headers.get(name))?.status; // 400: no Sec-WebSocket-Key
 * ```
 */
export function checkHandshake(
  header: (name: string) => string | null | undefined,
): HandshakeRefusal | undefined {
  if (!hasToken(header("connection"), "upgrade")) {
    return {
      status: 400,
      message:
        'WebSocket handshake: the Connection header must include "Upgrade" (RFC 6455 §4.1); connect with a WebSocket client',
    };
  }
  const key = header("sec-websocket-key");
  if (!key || !KEY.test(key.trim())) {
    return {
      status: 400,
      message: `WebSocket handshake: ${
        key ? "malformed" : "missing"
      } Sec-WebSocket-Key header; it must be 16 random bytes in base64 (RFC 6455 §4.1)`,
    };
  }
  const version = header("sec-websocket-version");
  if (version?.trim() !== WEBSOCKET_VERSION) {
    return version
      ? {
        status: 426,
        message:
          `WebSocket version ${version} is not supported; this server speaks version ${WEBSOCKET_VERSION} (RFC 6455)`,
      }
      : {
        status: 400,
        message:
          `WebSocket handshake: missing Sec-WebSocket-Version header; send ${WEBSOCKET_VERSION} (RFC 6455 §4.1)`,
      };
  }
  return undefined;
}

/**
 * The HTTP answer to a refused handshake: the status, `Sec-WebSocket-Version: 13`
 * (RFC 6455 §4.4) and the app's JSON error body.
 */
export function refusalResponse(refusal: HandshakeRefusal): Response {
  return new Response(
    JSON.stringify({ error: { code: CODE, message: refusal.message } }),
    {
      status: refusal.status,
      headers: {
        "content-type": "application/json",
        "sec-websocket-version": WEBSOCKET_VERSION,
      },
    },
  );
}
