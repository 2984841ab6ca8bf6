/**
 * The client's HTTP side: where the API is, and `GET /topics/:topic/state`.
 *
 * @module
 */
import { FloodgateError } from "./floodgate_error.ts";
import type { FetchedState } from "./topic_sync.ts";

/**
 * Resolves a connect URL: relative URLs against the page (in browsers), and
 * http(s) turned into ws(s).
 *
 * @throws {TypeError} for any other scheme.
 */
export function resolveSocketUrl(url: string | URL): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const u = new URL(url, base);
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.protocol !== "ws:" && u.protocol !== "wss:") {
    throw new TypeError(
      `Cannot connect to "${u.href}": use a ws://, wss://, http:// or https:// URL`,
    );
  }
  return u;
}

/** The HTTP API's base for a socket URL: `ws://h/ws?x` → `http://h`. */
export function httpBaseOf(socketUrl: URL): string {
  const u = new URL(socketUrl.href);
  u.protocol = socketUrl.protocol === "wss:" ? "https:" : "http:";
  u.search = "";
  u.hash = "";
  u.pathname = u.pathname.replace(/\/ws\/?$/, "");
  return u.href.replace(/\/$/, "");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * `GET {base}/topics/:topic/state`, with a bearer token when there is one.
 *
 * @throws {FloodgateError} `refetch_failed` on an HTTP error or a body without `seq` and `state`.
 */
export async function fetchTopicState(
  fetcher: typeof fetch,
  base: string,
  topic: string,
  token: string | undefined,
): Promise<FetchedState> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetcher(`${base}/topics/${encodeURIComponent(topic)}/state`, { headers });
  if (!res.ok) {
    const text = await res.text();
    throw new FloodgateError("refetch_failed", `HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  const body = await res.json();
  if (!isObject(body) || typeof body.seq !== "number" || !isObject(body.state)) {
    throw new FloodgateError("refetch_failed", "The state response has no seq and state");
  }
  return { epoch: String(body.epoch), seq: body.seq, state: body.state };
}
