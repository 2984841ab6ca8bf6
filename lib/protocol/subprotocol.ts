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
