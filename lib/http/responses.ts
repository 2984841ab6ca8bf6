/**
 * What every route shares: the JSON error body, the HTTP status of each error
 * code, and who is asking (the peer, or the client behind trusted proxies).
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../protocol/codes.ts";

/** Sends the JSON error body every route uses: `{"error": {"code", "message"}}`. */
export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
): Response {
  return c.json({ error: { code, message } }, status);
}

/** The HTTP status of each error code a route may answer with; others are 400. */
export const STATUS_OF: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  forbidden: 403,
  unauthorized: 401,
  rate_limited: 429,
  too_large: 413,
  not_found: 404,
  limit_reached: 503,
  unavailable: 503,
  overloaded: 503,
};

/**
 * Finds the client's address from the peer's and the `X-Forwarded-For` header
 * (trusted proxies only); returns the peer's when no proxy is trusted.
 */
export type ClientAddressOf = (peer: string, forwardedFor: string | undefined) => string;

/** Where the server's bindings (Hono's `c.env`) say the peer is. */
interface PeerBindings {
  remoteAddr?: { hostname?: string; port?: number };
  incoming?: { socket?: { remoteAddress?: string; remotePort?: number } };
}

/** Who sent a request: `host` keys per-address limits, `text` goes in logs and `/stats`. */
export interface Remote {
  readonly host: string;
  readonly text: string;
}

/** The request's client: the peer address, or the one a trusted proxy forwarded. */
export function remoteOf(c: Context, clientAddressOf?: ClientAddressOf): Remote {
  // Deno.serve and the ws engine's upgrades give `remoteAddr`; node:http requests their socket.
  const env = c.env as PeerBindings | undefined;
  const socket = env?.incoming?.socket;
  const addr = env?.remoteAddr ??
    (socket ? { hostname: socket.remoteAddress, port: socket.remotePort } : undefined);
  if (!addr?.hostname) return { host: "unknown", text: "unknown" };
  const peer = addr.hostname;
  const host = clientAddressOf ? clientAddressOf(peer, c.req.header("x-forwarded-for")) : peer;
  return { host, text: host === peer ? `${peer}:${addr.port}` : `${host} via ${peer}` };
}
