/**
 * A small WebSocket client on raw TCP, for what the WebSocket API cannot do:
 * read slowly (so the kernel applies real TCP backpressure), stop reading
 * altogether, or send malformed frames. Client side of RFC 6455 only, no
 * extensions.
 *
 * @module
 */

/** One frame as it came off the wire. */
export interface WireFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** Opcodes of RFC 6455. */
export const Opcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/**
 * Encodes one masked client frame.
 *
 * @example
 * ```ts
 * import { encodeClientFrame, Opcode } from "./raw_ws.ts";
 * const bytes = encodeClientFrame(Opcode.Text, new TextEncoder().encode("ping"));
 * bytes.length; // 2 header + 4 mask + 4 payload = 10
 * ```
 */
export function encodeClientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const len = payload.length;
  const header: number[] = [(fin ? 0x80 : 0) | opcode];
  if (len < 126) header.push(0x80 | len);
  else if (len < 65536) header.push(0x80 | 126, len >> 8, len & 0xff);
  else {
    header.push(0x80 | 127, 0, 0, 0, 0);
    header.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  const out = new Uint8Array(header.length + 4 + len);
  out.set(header, 0);
  out.set(mask, header.length);
  const off = header.length + 4;
  for (let i = 0; i < len; i++) out[off + i] = payload[i] ^ mask[i & 3];
  return out;
}

/**
 * Parses unmasked server frames from a growing byte buffer.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./raw_ws.ts";
 * const r = new FrameReader();
 * r.push(new Uint8Array([0x81, 2, 0x68, 0x69]));
 * r.next()?.payload; // Uint8Array "hi"
 * ```
 */
export class FrameReader {
  #buf = new Uint8Array(0);
  #off = 0;

  /** Appends bytes read from the socket. */
  push(bytes: Uint8Array): void {
    const rest = this.#buf.subarray(this.#off);
    const next = new Uint8Array(rest.length + bytes.length);
    next.set(rest, 0);
    next.set(bytes, rest.length);
    this.#buf = next;
    this.#off = 0;
  }

  /** The next complete frame, or undefined until more bytes arrive. */
  next(): WireFrame | undefined {
    const b = this.#buf;
    let i = this.#off;
    if (b.length - i < 2) return undefined;
    const fin = (b[i] & 0x80) !== 0;
    const opcode = b[i] & 0x0f;
    let len = b[i + 1] & 0x7f;
    i += 2;
    if (len === 126) {
      if (b.length - i < 2) return undefined;
      len = (b[i] << 8) | b[i + 1];
      i += 2;
    } else if (len === 127) {
      if (b.length - i < 8) return undefined;
      len = Number(new DataView(b.buffer, b.byteOffset + i, 8).getBigUint64(0));
      i += 8;
    }
    if (b.length - i < len) return undefined;
    const payload = b.slice(i, i + len);
    this.#off = i + len;
    return { fin, opcode, payload };
  }
}

/** Reads of a {@linkcode RawWebSocket}: a whole text message or a control event. */
export type RawEvent =
  | { kind: "text"; text: string }
  | { kind: "binary"; bytes: Uint8Array }
  | { kind: "close"; code: number; reason: string };

/**
 * A client WebSocket on a raw TCP connection. Nothing is read unless
 * {@linkcode RawWebSocket.read} is called, so a caller decides how fast the
 * server's data leaves the kernel.
 */
export class RawWebSocket {
  readonly conn: Deno.TcpConn;
  /** The HTTP response head of the handshake. */
  readonly handshake: string;
  readonly #reader = new FrameReader();
  readonly #buf = new Uint8Array(64 * 1024);
  #fragments: Uint8Array[] = [];
  #fragmentOpcode = 0;
  #eof = false;

  private constructor(conn: Deno.TcpConn, handshake: string, leftover: Uint8Array) {
    this.conn = conn;
    this.handshake = handshake;
    if (leftover.length > 0) this.#reader.push(leftover);
  }

  /**
   * Connects to `ws://host:port/path` and completes the handshake.
   *
   * @throws {Error} when the server does not answer 101.
   */
  static async connect(
    url: string,
    options: { protocols?: string[]; headers?: Record<string, string> } = {},
  ): Promise<RawWebSocket> {
    const u = new URL(url);
    const port = Number(u.port || 80);
    const conn = await Deno.connect({ hostname: u.hostname, port });
    // Each frame goes out in one write; waiting to coalesce small ones (Nagle) would only add
    // delayed-ACK stalls of ~40 ms to what a load test measures.
    conn.setNoDelay(true);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const lines = [
      `GET ${u.pathname}${u.search} HTTP/1.1`,
      `Host: ${u.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
    ];
    if (options.protocols?.length) {
      lines.push(`Sec-WebSocket-Protocol: ${options.protocols.join(", ")}`);
    }
    for (const [k, v] of Object.entries(options.headers ?? {})) lines.push(`${k}: ${v}`);
    await writeAll(conn, new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    // Read until the end of the response head; keep what follows it.
    let head = new Uint8Array(0);
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) {
        conn.close();
        throw new Error(`Connection to ${url} closed during the handshake`);
      }
      const joined = new Uint8Array(head.length + n);
      joined.set(head, 0);
      joined.set(buf.subarray(0, n), head.length);
      head = joined;
      const end = indexOfHeadEnd(head);
      if (end >= 0) {
        const text = new TextDecoder().decode(head.subarray(0, end));
        if (!/^HTTP\/1\.1 101/.test(text)) {
          conn.close();
          throw new Error(`Upgrade to ${url} refused: ${text.split("\r\n")[0]}`);
        }
        return new RawWebSocket(conn, text, head.subarray(end + 4));
      }
    }
  }

  /** Sends a text message. */
  async sendText(text: string): Promise<void> {
    await writeAll(this.conn, encodeClientFrame(Opcode.Text, new TextEncoder().encode(text)));
  }

  /** Writes raw bytes (for malformed-frame tests). */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    await writeAll(this.conn, bytes);
  }

  /**
   * Reads the next message or close; answers pings by itself. Resolves with
   * undefined when the connection ends without a close frame.
   */
  async read(): Promise<RawEvent | undefined> {
    for (;;) {
      const frame = this.#reader.next();
      if (frame) {
        const event = await this.#handle(frame);
        if (event) return event;
        continue;
      }
      if (this.#eof) return undefined;
      let n: number | null;
      try {
        n = await this.conn.read(this.#buf);
      } catch {
        n = null;
      }
      if (n === null) {
        this.#eof = true;
        continue;
      }
      this.#reader.push(this.#buf.subarray(0, n));
    }
  }

  /** Starts the closing handshake: sends a close frame with `code` (read on to get the answer). */
  async sendClose(code = 1000, reason = ""): Promise<void> {
    const text = new TextEncoder().encode(reason);
    const payload = new Uint8Array(2 + text.length);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(text, 2);
    await writeAll(this.conn, encodeClientFrame(Opcode.Close, payload));
  }

  /** Closes the TCP connection without a closing handshake. */
  abort(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  async #handle(frame: WireFrame): Promise<RawEvent | undefined> {
    switch (frame.opcode) {
      case Opcode.Ping:
        await writeAll(this.conn, encodeClientFrame(Opcode.Pong, frame.payload)).catch(() => {});
        return undefined;
      case Opcode.Pong:
        return undefined;
      case Opcode.Close: {
        const code = frame.payload.length >= 2 ? (frame.payload[0] << 8) | frame.payload[1] : 1005;
        return { kind: "close", code, reason: new TextDecoder().decode(frame.payload.subarray(2)) };
      }
      case Opcode.Continuation:
      case Opcode.Text:
      case Opcode.Binary: {
        if (frame.opcode !== Opcode.Continuation) this.#fragmentOpcode = frame.opcode;
        this.#fragments.push(frame.payload);
        if (!frame.fin) return undefined;
        const parts = this.#fragments;
        this.#fragments = [];
        const bytes = parts.length === 1 ? parts[0] : concat(parts);
        return this.#fragmentOpcode === Opcode.Text
          ? { kind: "text", text: new TextDecoder().decode(bytes) }
          : { kind: "binary", bytes };
      }
      default:
        return undefined;
    }
  }
}

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
