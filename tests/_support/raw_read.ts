import type { RawWebSocket } from "../../lib/load/raw_ws.ts";

/** What a raw client read: text messages, then the close (if any) and whether the TCP stream ended. */
export interface RawReadResult {
  texts: string[];
  close?: { code: number; reason: string };
  ended: boolean;
}

/** Reads until a close frame, the end of the stream, or `timeoutMs`. */
export async function readUntilClose(raw: RawWebSocket, timeoutMs: number): Promise<RawReadResult> {
  const result: RawReadResult = { texts: [], ended: false };
  const deadline = Date.now() + timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    while (Date.now() < deadline) {
      const timeout = new Promise<"timeout">((r) => {
        timer = setTimeout(() => r("timeout"), deadline - Date.now());
      });
      const event = await Promise.race([raw.read(), timeout]);
      clearTimeout(timer);
      if (event === "timeout") break;
      if (event === undefined) {
        result.ended = true;
        break;
      }
      if (event.kind === "text") result.texts.push(event.text);
      if (event.kind === "close") {
        result.close = { code: event.code, reason: event.reason };
        break;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return result;
}
