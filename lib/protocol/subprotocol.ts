/** The WebSocket subprotocol of the JSON codec, version 1. */
export const JSON_SUBPROTOCOL = "floodgate.v1.json";

/** Subprotocols the server can speak, in order of preference. */
export const SUBPROTOCOLS: readonly string[] = [JSON_SUBPROTOCOL];

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
