import type { ServerFrame } from "../../lib/protocol/frames.ts";
import type { ServerSocket } from "../../lib/transport/socket.ts";

/** A ServerSocket that keeps what is sent, for hub-level tests without a network. */
export class MemorySocket implements ServerSocket {
  readonly frames: ServerFrame[] = [];
  bufferedAmount = 0;
  closed: { code: number; reason: string } | undefined;

  send(frame: string | Uint8Array): void {
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
}
