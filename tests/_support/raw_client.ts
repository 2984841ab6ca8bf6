/**
 * A WebSocket client written on raw TCP, for what a browser cannot do: finish
 * the handshake and then never read, or send malformed frames.
 */

/** Encodes one masked client frame. */
export function clientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
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
  for (let i = 0; i < len; i++) out[header.length + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

export class RawClient {
  readonly conn: Deno.TcpConn;
  /** The HTTP response head of the handshake. */
  readonly handshake: string;

  private constructor(conn: Deno.TcpConn, handshake: string) {
    this.conn = conn;
    this.handshake = handshake;
  }

  /**
   * Opens a TCP connection, performs the upgrade for `path` and reads only the
   * handshake response; after that nothing is read unless asked.
   */
  static async connect(port: number, path: string): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    // Read byte by byte up to the end of the response head, so no frame is consumed.
    const head: number[] = [];
    const one = new Uint8Array(1);
    while (!(head.length >= 4 && head.slice(-4).join() === "13,10,13,10")) {
      const n = await conn.read(one);
      if (n === null) throw new Error("Connection closed during handshake");
      head.push(one[0]);
    }
    return new RawClient(conn, new TextDecoder().decode(new Uint8Array(head)));
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads everything until the peer closes or `timeoutMs` passes; returns the bytes. */
  async readAll(timeoutMs: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(64 * 1024);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const timer = new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()));
      const n = await Promise.race([this.conn.read(buf).catch(() => null), timer]);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const total = chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Parses server (unmasked) frames from raw bytes: opcode, payload. */
export function parseServerFrames(bytes: Uint8Array): { opcode: number; payload: Uint8Array }[] {
  const frames: { opcode: number; payload: Uint8Array }[] = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const opcode = bytes[i] & 0x0f;
    let len = bytes[i + 1] & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = (bytes[off] << 8) | bytes[off + 1];
      off += 2;
    } else if (len === 127) {
      len = Number(new DataView(bytes.buffer, bytes.byteOffset + off, 8).getBigUint64(0));
      off += 8;
    }
    if (off + len > bytes.length) break;
    frames.push({ opcode, payload: bytes.subarray(off, off + len) });
    i = off + len;
  }
  return frames;
}
