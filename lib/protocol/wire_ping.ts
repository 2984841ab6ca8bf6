/**
 * The application data of the RFC 6455 ping frames the server sends to plain
 * clients. A peer must answer a ping with a pong carrying the same data
 * (§5.5.2–5.5.3), which every browser and WebSocket library does by itself, so
 * a ping that carries the number of bytes sent before it tells the server,
 * when its pong arrives, that the client has read that far: flow control that
 * needs no cooperation from the client's code.
 *
 * The data is the byte offset in decimal ASCII (at most 16 digits, well within
 * the 125 bytes a control frame may carry).
 *
 * @module
 */

/** Most digits an offset takes: `Number.MAX_SAFE_INTEGER` has 16. */
const MAX_DIGITS = 16;

/**
 * The ping data for a byte offset.
 *
 * @throws {RangeError} when `offset` is not a safe non-negative integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWirePing, encodeWirePing } from "./wire_ping.ts";
 * assert.equal(decodeWirePing(encodeWirePing(424311)), 424311);
 * ```
 */
export function encodeWirePing(offset: number): Uint8Array {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`A ping offset must be a safe integer >= 0, got "${offset}"`);
  }
  const text = String(offset);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * The byte offset a pong carries back, or undefined when its data is not one
 * the server sent (a pong the client sent unasked, or answering another ping).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWirePing } from "./wire_ping.ts";
 * assert.equal(decodeWirePing(new TextEncoder().encode("1024")), 1024);
 * assert.equal(decodeWirePing(new Uint8Array(0)), undefined);
 * assert.equal(decodeWirePing(new TextEncoder().encode("01")), undefined);
 * ```
 */
export function decodeWirePing(data: Uint8Array): number | undefined {
  const n = data.length;
  if (n === 0 || n > MAX_DIGITS || (n > 1 && data[0] === 0x30)) return undefined;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const digit = data[i] - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return Number.isSafeInteger(value) ? value : undefined;
}
