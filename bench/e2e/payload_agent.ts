/**
 * Subscriber agent for the large-payload benchmark: a child process holding
 * `npm:ws` clients (which offer permessage-deflate, as browsers do). Small
 * frames are parsed (latency of `terminal` messages from the server's `ts`, or with
 * `--latency-from sent` from their `sentAt`);
 * large frames and chunks of large messages are only counted, so the agent's
 * own parsing does not hide the server's behaviour. Expects the JSON codec. Prints `{"ready"}`, then
 * after warm-up and duration one JSON report line.
 *
 * @module
 */
import { parseArgs } from "node:util";
// @ts-types="npm:@types/ws@^8.18.1"
import { WebSocket } from "ws";
import { LatencyHistogram, wallClockMs } from "../../lib/load/latency_histogram.ts";
import { procCpuSeconds } from "../../lib/load/server_process.ts";
import type { ServerFrame } from "../../lib/protocol/frames.ts";

/** The report line. */
export interface PayloadAgentReport {
  clients: number;
  deflate: number;
  /** Small messages received during the window, and their latency (HDR-encoded). */
  small: number;
  latency: string;
  /** Large messages completed during the window. */
  large: number;
  /** Bytes read from TCP (framing and compression included) during the window. */
  bytesRead: number;
  closes: Record<string, number>;
  cpuSeconds: number;
}

const CHUNK_END = '{"type":"chunked.end"';
const CHUNK = '{"type":"chunked.';
/** A large message sent whole (the `tabs` topic only carries large ones). */
const LARGE = '{"type":"message","topic":"tabs"';

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      clients: { type: "string", default: "50" },
      deflate: { type: "boolean", default: false },
      topics: { type: "string", default: "tabs,terminal" },
      "latency-from": { type: "string", default: "ts" },
      "warmup-ms": { type: "string", default: "2000" },
      "duration-ms": { type: "string", default: "8000" },
    },
  });
  const latency = new LatencyHistogram();
  // From the server accepting the publish (`ts`), or from the publisher's clock (`sentAt`), which
  // also counts the publishing process's own queueing (its large uploads delay its small ones).
  const fromTs = values["latency-from"] !== "sent";
  let measuring = false;
  let small = 0;
  let large = 0;
  const closes: Record<string, number> = {};
  const sockets: WebSocket[] = [];
  await Promise.all(
    Array.from({ length: Number(values.clients) }, () =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${values.url}?topics=${values.topics}`, {
          perMessageDeflate: values.deflate,
        });
        sockets.push(ws);
        ws.once("open", () => resolve());
        ws.once("error", reject);
        ws.on("close", (code: number) => (closes[code] = (closes[code] ?? 0) + 1));
        ws.on("message", (data: Buffer) => {
          const head = data.subarray(0, 40).toString();
          if (head.startsWith(CHUNK)) {
            // One piece of a large message: only its end is read.
            if (measuring && head.startsWith(CHUNK_END)) large++;
            return;
          }
          if (head.startsWith(LARGE)) {
            if (measuring) large++;
            return;
          }
          const text = data.toString();
          const frame = JSON.parse(text) as ServerFrame;
          if (frame.type === "ping") {
            ws.send(JSON.stringify({ type: "pong", id: frame.id }));
            return;
          }
          const now = wallClockMs();
          for (const m of frame.type === "batch" ? frame.messages : [frame]) {
            if (m.type !== "message" || m.topic !== "terminal" || !measuring) continue;
            small++;
            latency.record(now - (fromTs ? m.ts : (m.data as { sentAt: number }).sentAt));
          }
        });
      })),
  );
  const read = () =>
    sockets.reduce(
      (a, ws) => a + (ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead,
      0,
    );
  const deflate = sockets.filter((ws) => ws.extensions.includes("permessage-deflate")).length;
  console.log(JSON.stringify({ ready: sockets.length }));
  await new Promise((r) => setTimeout(r, Number(values["warmup-ms"])));
  measuring = true;
  const bytes0 = read();
  const cpu0 = procCpuSeconds(Deno.pid);
  await new Promise((r) => setTimeout(r, Number(values["duration-ms"])));
  measuring = false;
  const report: PayloadAgentReport = {
    clients: sockets.length,
    deflate,
    small,
    latency: latency.encode(),
    large,
    bytesRead: read() - bytes0,
    closes,
    cpuSeconds: procCpuSeconds(Deno.pid) - cpu0,
  };
  console.log(JSON.stringify(report));
  for (const ws of sockets) ws.terminate();
  Deno.exit(0);
}
