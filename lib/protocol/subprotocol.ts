/** The WebSocket subprotocol of the JSON codec, version 1. */
export const JSON_SUBPROTOCOL = "floodgate.v1.json";

/** The WebSocket subprotocol of the MessagePack codec, version 1. */
export const MSGPACK_SUBPROTOCOL = "floodgate.v1.msgpack";

/** Subprotocols the server can speak. */
export const SUBPROTOCOLS: readonly string[] = [JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL];

/**
 * Picks the subprotocol to accept from a `Sec-WebSocket-Protocol` offer: the
 * first offered one the server speaks, or undefined (then none is echoed and
 * the JSON codec is used). Entries that carry a token are never selected.
 *
 * @example
 * ```ts
 * import { selectSubprotocol } from "./subprotocol.ts";
 * selectSubprotocol("floodgate.token.abc, floodgate.v1.json"); // "floodgate.v1.json"
 * ```
 */
export function selectSubprotocol(offer: string | null | undefined): string | undefined {
  if (!offer) return undefined;
  for (const p of offer.split(",")) {
    const name = p.trim();
    if (SUBPROTOCOLS.includes(name)) return name;
  }
  return undefined;
}

/**
 * The codec a selected subprotocol stands for: MessagePack for
 * `floodgate.v1.msgpack`, JSON otherwise (also when none was selected).
 */
export function codecOf(protocol: string | undefined): "json" | "msgpack" {
  return protocol === MSGPACK_SUBPROTOCOL ? "msgpack" : "json";
}

/**
 * What a connection owes the server. `"plain"`: it offered no `floodgate.v1.*`
 * subprotocol (a bare `new WebSocket(url)`): it is never asked to send
 * anything, gets large messages whole, and its progress is read from the
 * WebSocket's own ping/pong. `"protocol"`: it chose `floodgate.v1.json` or
 * `floodgate.v1.msgpack`: it answers `ping {id}` frames and reassembles
 * `chunked.*` frames.
 */
export type ClientLevel = "plain" | "protocol";

/**
 * The level of a connection from the subprotocol the server selected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientLevelOf, selectSubprotocol } from "./subprotocol.ts";
 * assert.equal(clientLevelOf(selectSubprotocol(null)), "plain");
 * assert.equal(clientLevelOf(selectSubprotocol("floodgate.v1.json")), "protocol");
 * ```
 */
export function clientLevelOf(protocol: string | undefined): ClientLevel {
  return protocol !== undefined && SUBPROTOCOLS.includes(protocol) ? "protocol" : "plain";
}
