import type { ServerFrame } from "../../lib/protocol/frames.ts";
import type { ServerSocket } from "../../lib/transport/socket.ts";

/** A ServerSocket that keeps what is sent, for hub-level tests without a network. */
export class MemorySocket implements ServerSocket {
  readonly frames: ServerFrame[] = [];
  /** WebSocket frames as sent (a batch counts once), text as is. */
  readonly wire: (string | Uint8Array)[] = [];
  /** The data of every RFC 6455 ping sent, when made with `{ ping: true }`. */
  readonly pings: Uint8Array[] = [];
  /** Present when made with `{ ping: true }`: the socket of an engine with ping/pong. */
  readonly ping?: (data: Uint8Array) => void;
  bufferedAmount = 0;
  closed: { code: number; reason: string } | undefined;

  constructor(options: { ping?: boolean } = {}) {
    if (options.ping) this.ping = (data) => this.pings.push(data);
  }

  send(frame: string | Uint8Array): void {
    this.wire.push(frame);
    const parsed = JSON.parse(typeof frame === "string" ? frame : new TextDecoder().decode(frame));
    if (parsed.type === "batch") this.frames.push(...parsed.messages);
    else this.frames.push(parsed);
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  /** Seqs of `message` frames of a topic, in arrival order. */
  seqs(topic: string): number[] {
    return this.frames.flatMap((f) => f.type === "message" && f.topic === topic ? [f.seq] : []);
  }

  /** The byte offsets the pings carried. */
  pingOffsets(): number[] {
    return this.pings.map((p) => Number(new TextDecoder().decode(p)));
  }
}
