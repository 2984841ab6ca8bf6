/**
 * A fake Floodgate for testing the load tester's own measurements: it speaks
 * the protocol (welcome, subscribed, message with ts, batch, gap, ping, ack)
 * over real sockets, but misbehaves on purpose and by a known amount: delays
 * each message, drops, duplicates, gaps or swaps given seqs, chunks large
 * frames, and closes clients that leave its pings unanswered.
 */
import {
  encodeAck,
  encodeBatch,
  encodeGap,
  encodeMessage,
  encodePing,
  encodeSubscribed,
  encodeWelcome,
} from "../../lib/protocol/encode.ts";
import { chunkText } from "../../lib/protocol/chunking.ts";

/** How the fake misbehaves. */
export interface FakeBehaviour {
  /** Delay between accepting a publish (its `ts`) and sending it, ms. @default {0} */
  delayMs?: number | ((seq: number) => number);
  /** Seqs never sent and never reported. */
  drop?: readonly number[];
  /** Seqs sent twice. */
  duplicate?: readonly number[];
  /** Seqs replaced by a `gap` frame (reason `dropped`). */
  gap?: readonly number[];
  /** Seqs sent after the next seq instead of before it. */
  swap?: readonly number[];
  /** Seqs from which on nothing is sent (a silent stop). */
  stopAfter?: number;
  /** Wrap every message in a `batch` frame. */
  batch?: boolean;
  /** Send frames larger than this as chunked frames (`chunked.start`, `.data` × n, `.end`). */
  chunkBytes?: number;
  /** Send `ping {id}` every this many ms and close with 4008 a client that left one unanswered. */
  pingMs?: number;
}

interface FakeClient {
  id: string;
  socket: WebSocket;
  topics: Set<string>;
  sent: number;
  awaitingPong: number | undefined;
  held: Map<string, string>;
}

/** A running fake server. */
export interface FakeServer {
  url: string;
  /** Publishes accepted, per topic: the last seq. */
  readonly seqs: Map<string, number>;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Runs `fn` against a fake server that behaves as `b` says, and always stops it. */
export async function withFakeServer(
  b: FakeBehaviour,
  fn: (server: FakeServer) => Promise<void>,
): Promise<void> {
  const clients = new Set<FakeClient>();
  const seqs = new Map<string, number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const drop = new Set(b.drop), duplicate = new Set(b.duplicate), gap = new Set(b.gap);
  const swap = new Set(b.swap);
  let nextClient = 0;
  let published = 0;

  let nextChunked = 0;
  const send = (c: FakeClient, text: string) => {
    if (c.socket.readyState !== WebSocket.OPEN) return;
    const frame = b.batch ? encodeBatch([text]) : text;
    const pieces = b.chunkBytes && frame.length > b.chunkBytes
      ? chunkText(frame, ++nextChunked, b.chunkBytes)
      : [frame];
    for (const piece of pieces) c.socket.send(piece);
  };
  const deliver = (topic: string, seq: number, text: string) => {
    if (drop.has(seq) || (b.stopAfter !== undefined && seq > b.stopAfter)) return;
    for (const c of clients) {
      if (!c.topics.has(topic)) continue;
      if (gap.has(seq)) {
        send(c, encodeGap(topic, seq, seq, "dropped"));
        continue;
      }
      if (swap.has(seq)) {
        c.held.set(topic, text);
        continue;
      }
      const times = duplicate.has(seq) ? 2 : 1;
      for (let i = 0; i < times; i++) send(c, text);
      c.sent++;
      const held = c.held.get(topic);
      if (held !== undefined) {
        c.held.delete(topic);
        send(c, held);
        c.sent++;
      }
    }
  };
  const publish = (topic: string, data: unknown, key?: string): number => {
    const seq = (seqs.get(topic) ?? 0) + 1;
    seqs.set(topic, seq);
    published++;
    const text = encodeMessage({ topic, seq, key, ts: now(), data });
    const delay = typeof b.delayMs === "function" ? b.delayMs(seq) : b.delayMs ?? 0;
    const timer = setTimeout(() => {
      timers.delete(timer);
      deliver(topic, seq, text);
    }, delay);
    timers.add(timer);
    return seq;
  };

  const pinger = b.pingMs
    ? setInterval(() => {
      for (const c of clients) {
        if (c.awaitingPong !== undefined) {
          c.socket.close(4008, "slow consumer");
          clients.delete(c);
          continue;
        }
        c.awaitingPong = c.sent;
        send(c, encodePing(c.sent));
      }
    }, b.pingMs)
    : undefined;

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") {
      return Response.json({ status: "ok", mode: "fake", engine: "fake", bus: { name: "fake" } });
    }
    if (url.pathname === "/metrics") {
      return new Response(
        `# HELP process_cpu_seconds_total fake\nprocess_cpu_seconds_total ${
          performance.now() / 1000
        }\nprocess_resident_memory_bytes 12345678\nfloodgate_published_total ${published}\n`,
      );
    }
    if (url.pathname === "/stats") {
      return Response.json({
        server: {},
        clients: [...clients].map((c) => ({
          id: c.id,
          dropped: 0,
          coalesced: 0,
          sent: { messages: c.sent },
        })),
      });
    }
    if (url.pathname === "/publish" && req.method === "POST") {
      const item = await req.json();
      return Response.json({ accepted: 1, seq: publish(item.topic, item.data, item.key) }, {
        status: 202,
      });
    }
    if (url.pathname === "/ws") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const topics = new Set((url.searchParams.get("topics") ?? "").split(",").filter(Boolean));
      const client: FakeClient = {
        id: `fake-${++nextClient}`,
        socket,
        topics,
        sent: 0,
        awaitingPong: undefined,
        held: new Map(),
      };
      socket.onopen = () => {
        clients.add(client);
        socket.send(encodeWelcome({ clientId: client.id, epoch: "fake", heartbeatMs: 1000 }));
        for (const t of topics) socket.send(encodeSubscribed(t, seqs.get(t) ?? 0));
      };
      socket.onmessage = (e) => {
        const frame = JSON.parse(e.data);
        if (frame.type === "pong" && frame.id === client.awaitingPong) {
          client.awaitingPong = undefined;
        }
        if (frame.type === "publish") {
          socket.send(encodeAck(frame.id, publish(frame.topic, frame.data, frame.key)));
        }
      };
      socket.onclose = () => clients.delete(client);
      socket.onerror = () => {};
      return response;
    }
    return new Response("not found", { status: 404 });
  });
  try {
    await fn({ url: `http://127.0.0.1:${server.addr.port}`, seqs });
  } finally {
    clearInterval(pinger);
    for (const t of timers) clearTimeout(t);
    for (const c of clients) c.socket.close(1001);
    await server.shutdown();
  }
}
