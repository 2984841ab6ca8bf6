/**
 * Words for a disconnect, by who closed it: a closed browser tab (1001 from
 * the client) is not a server shutdown (1001 from the server), and a
 * connection that ended without a close frame (1006, or 0 from some engines)
 * is "lost", not a code.
 *
 * @module
 */
import { closeReason } from "../protocol/codes.ts";
import type { Closer } from "../protocol/metrics_sample.ts";

/** What the client meant by the codes it sends itself (RFC 6455 §7.4.1). */
const CLIENT_SAYS: Readonly<Record<number, string>> = {
  1000: "closed by the client",
  1001: "client went away (tab closed, page left)",
  1005: "closed by the client, no code",
};

/**
 * The label of a disconnect with close `code`, closed `by` the client or the server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeLabel } from "./close_label.ts";
 * assert.equal(closeLabel("client", 1001), "client went away (tab closed, page left)");
 * assert.equal(closeLabel("server", 1001), "server shutting down");
 * assert.equal(closeLabel("client", 1006), "connection lost (no close frame)");
 * ```
 */
export function closeLabel(by: Closer, code: number): string {
  if (code === 1006 || code === 0) return "connection lost (no close frame)";
  const known = closeReason[code as keyof typeof closeReason];
  if (by === "client") return CLIENT_SAYS[code] ?? `closed by the client (${known ?? "its code"})`;
  return known ?? "closed by the server";
}

/**
 * Disconnects as labelled rows, most first: by who closed and code from a
 * sample's `disconnectsBy`, or by code alone from servers that do not report it.
 */
export function disconnectEntries(
  byCode: Readonly<Record<string, number>>,
  by: Readonly<Record<Closer, Record<string, number>>> | undefined,
): { by: Closer | undefined; code: number; count: number; label: string }[] {
  const out: { by: Closer | undefined; code: number; count: number; label: string }[] = [];
  if (by === undefined) {
    for (const [code, count] of Object.entries(byCode)) {
      const label = closeReason[Number(code) as keyof typeof closeReason] ?? "closed";
      out.push({ by: undefined, code: Number(code), count, label });
    }
  } else {
    for (const closer of ["client", "server"] as const) {
      for (const [code, count] of Object.entries(by[closer])) {
        out.push({
          by: closer,
          code: Number(code),
          count,
          label: closeLabel(closer, Number(code)),
        });
      }
    }
  }
  return out.sort((a, b) => b.count - a.count);
}
