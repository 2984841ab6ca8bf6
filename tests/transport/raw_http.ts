/**
 * Raw HTTP/1.1 over TCP for transport tests: what `fetch` and `WebSocket`
 * cannot send (broken handshakes, partial requests, nothing at all) and
 * what they cannot see (when the server closes).
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A WebSocket upgrade request for `path`; `drop` leaves headers out, `extra` adds some. */
export function upgradeRequest(
  path = "/ws",
  options: { drop?: string[]; extra?: Record<string, string> } = {},
): string {
  const headers: Record<string, string> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...options.extra,
  };
  for (const name of options.drop ?? []) delete headers[name];
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** What the server sent on one connection. */
export interface RawReply {
  /** Everything read, as text. */
  text: string;
  /** The status code of the first response line, or 0. */
  status: number;
  /** Headers of the first response, names in lower case. */
  headers: Map<string, string>;
  /** The body of the first response (up to what was read). */
  body: string;
  /** Whether the server closed (or reset) the connection within the timeout. */
  closed: boolean;
  /** Milliseconds from connecting to the close, when it closed. */
  closedAfterMs?: number;
}

/**
 * Connects, sends `text` (nothing when empty), and reads until the server
 * closes, until `until(text)` holds, or until `timeoutMs` passes.
 */
export async function exchange(
  port: number,
  text: string,
  timeoutMs: number,
  until: (received: string) => boolean = () => false,
): Promise<RawReply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  if (text) await conn.write(encoder.encode(text));
  let received = "";
  let closed = false;
  let closedAfterMs: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((
    r,
  ) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
  const buf = new Uint8Array(16 << 10);
  try {
    while (!until(received)) {
      const n = await Promise.race([conn.read(buf), timeout]).catch(() => null);
      if (n === "timeout") break;
      if (n === null) {
        closed = true;
        closedAfterMs = performance.now() - started;
        break;
      }
      received += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  return { ...parse(received), text: received, closed, closedAfterMs };
}

/** True once a whole response head and its `Content-Length` body have arrived. */
export function wholeResponse(received: string): boolean {
  const end = received.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const { headers } = parse(received);
  const length = Number(headers.get("content-length") ?? 0);
  return encoder.encode(received.slice(end + 4)).length >= length;
}

function parse(text: string): Pick<RawReply, "status" | "headers" | "body"> {
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: end < 0 ? "" : text.slice(end + 4),
  };
}
