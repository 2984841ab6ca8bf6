/**
 * permessage-deflate over real sockets with `npm:ws` clients (which offer it on
 * every connection, as Chromium does): negotiation, fewer bytes on the wire,
 * compress-once, and the same content as uncompressed clients.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@types/ws@^8.18.1"
import { WebSocket } from "ws";
import { sessionUpdate, tabTree } from "../../lib/load/payloads.ts";
import { ChunkAssembler } from "../../lib/protocol/chunk_assembler.ts";
import { decodeFrame } from "../../lib/protocol/codec.ts";
import type { ChunkedFrame, MessageFrame, ServerFrame } from "../../lib/protocol/frames.ts";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import type { FloodgateServer } from "../../lib/server.ts";
import { metricValue as metric, publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

/** An `npm:ws` client that reassembles chunks, answers pings and counts the bytes it read. */
class WsClient {
  readonly messages: MessageFrame[] = [];
  extensions = "";
  readonly #ws: WebSocket;
  readonly #chunks = new ChunkAssembler();
  readonly opened: Promise<void>;

  constructor(url: string, options: { deflate: boolean; protocol?: string }) {
    this.#ws = new WebSocket(url, options.protocol ? [options.protocol] : [], {
      perMessageDeflate: options.deflate,
    });
    this.#ws.on(
      "upgrade",
      (res) => this.extensions = String(res.headers["sec-websocket-extensions"] ?? ""),
    );
    this.opened = new Promise((resolve, reject) => {
      this.#ws.once("open", () => resolve());
      this.#ws.once("error", reject);
    });
    this.#ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.#handle(decodeFrame(isBinary ? new Uint8Array(data) : data.toString()) as ServerFrame);
    });
  }

  #handle(frame: ServerFrame): void {
    if (frame.type.startsWith("chunked.")) {
      const whole = this.#chunks.push(frame as ChunkedFrame);
      if (whole !== undefined) this.#handle(decodeFrame(whole) as ServerFrame);
      return;
    }
    if (frame.type === "ping") this.send({ type: "pong", id: frame.id });
    for (const f of frame.type === "batch" ? frame.messages : [frame]) {
      if (f.type === "message") this.messages.push(f);
    }
  }

  send(frame: unknown): void {
    this.#ws.send(JSON.stringify(frame));
  }

  /** Bytes read from the TCP socket so far (compressed, framing included). */
  get bytesRead(): number {
    return (this.#ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
  }

  async waitFor(n: number, ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while (this.messages.length < n) {
      if (Date.now() > until) {
        throw new Error(`Timed out with ${this.messages.length}/${n} messages`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#ws.once("close", () => resolve());
      this.#ws.close(1000);
    });
  }
}

async function waitSubscribed(server: FloodgateServer, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = await (await fetch(`${server.url}/stats`)).json();
    if (s.clients.filter((c: { topics: string[] }) => c.topics.length > 0).length >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${n} clients did not subscribe`);
}

const payloads = () => [
  { topic: "tabs", key: "w", data: tabTree(200_000) },
  ...Array.from(
    { length: 20 },
    (_, i) => ({ topic: "tabs", key: `s${i}`, data: sessionUpdate(i) }),
  ),
];

Deno.test("with --compression deflate an npm:ws client negotiates permessage-deflate and reads fewer bytes", async () => {
  await withServer({ compression: "deflate", heartbeatMs: 60_000 }, async (server) => {
    const health = await (await fetch(`${server.url}/healthz`)).json();
    assert.equal(health.engine, "ws+deflate");
    const url = wsUrl(server, "?topics=tabs");
    const zipped = [new WsClient(url, { deflate: true }), new WsClient(url, { deflate: true })];
    const plain = new WsClient(url, { deflate: false });
    for (const c of [...zipped, plain]) await c.opened;
    assert.match(zipped[0].extensions, /^permessage-deflate/);
    assert.match(zipped[0].extensions, /server_no_context_takeover/);
    assert.equal(plain.extensions, "");
    await waitSubscribed(server, 3);
    const before = zipped.map((c) => c.bytesRead).concat(plain.bytesRead);

    const items = payloads();
    for (const item of items) await publish(server, item);
    for (const c of [...zipped, plain]) await c.waitFor(items.length);
    for (const c of zipped) {
      assert.deepEqual(c.messages, plain.messages, "same content compressed or not");
    }
    assert.deepEqual(plain.messages.map((m) => m.data), items.map((i) => i.data));

    const zippedBytes = zipped[0].bytesRead - before[0];
    const plainBytes = plain.bytesRead - before[2];
    assert.ok(zippedBytes * 3 < plainBytes, `deflate read ${zippedBytes} B, plain ${plainBytes} B`);

    // Compressed once per broadcast: two deflate clients, each frame compressed once.
    const compressed = await metric(server, "floodgate_compression_frames_total");
    const sent = await metric(server, "floodgate_compressed_frames_sent_total");
    assert.ok(compressed > 0);
    assert.equal(sent, 2 * compressed, `${compressed} frames compressed, ${sent} sent compressed`);
    assert.ok((await metric(server, "floodgate_compression_ratio")) > 3);
    assert.ok((await metric(server, "floodgate_compression_cpu_seconds_total")) > 0);
    for (const c of [...zipped, plain]) await c.close();
  });
});

Deno.test("deflate works with MessagePack and with clients that publish compressed frames", async () => {
  await withServer({ compression: "deflate", heartbeatMs: 60_000 }, async (server) => {
    const mp = new WsClient(wsUrl(server, "?topics=tabs"), {
      deflate: true,
      protocol: "floodgate.v1.msgpack",
    });
    const pub = new WsClient(wsUrl(server), { deflate: true });
    await mp.opened;
    await pub.opened;
    await waitSubscribed(server, 1);
    const tree = tabTree(150_000);
    pub.send({ type: "publish", topic: "tabs", key: "w", data: tree }); // ws compresses it
    pub.send({ type: "publish", topic: "tabs", key: "w", patch: { version: 9 } });
    await mp.waitFor(2);
    assert.deepEqual(mp.messages[0].data, tree);
    assert.deepEqual(mp.messages[1].data, { version: 9 });
    assert.ok((await metric(server, "floodgate_compressed_frames_sent_total")) > 0);
    await mp.close();
    await pub.close();
  });
});

Deno.test("the ws engine answers a bad upgrade with the app's status", async () => {
  await withServer({ compression: "deflate" }, async (server) => {
    await assert.rejects(
      () => RawWebSocket.connect(wsUrl(server, "?topics=bad%20topic")),
      /HTTP\/1.1 400/,
    );
    const res = await publish(server, { topic: "t", data: 1 });
    assert.equal(res.status, 202, "plain HTTP goes through @hono/node-server");
  });
});

Deno.test("the ws engine serves clients that do not offer deflate, and per-socket deflate for comparison", async () => {
  await withServer({ compression: "deflate-per-socket", heartbeatMs: 60_000 }, async (server) => {
    const native = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    const zipped = new WsClient(wsUrl(server, "?topics=tabs"), { deflate: true });
    await zipped.opened;
    assert.match(zipped.extensions, /^permessage-deflate/);
    assert.doesNotMatch(zipped.extensions, /server_no_context_takeover/);
    await waitSubscribed(server, 2);
    const items = payloads();
    await publish(server, items);
    await zipped.waitFor(items.length);
    await native.waitFor(() => native.messages("tabs").length === items.length, 10_000);
    assert.deepEqual(zipped.messages, native.messages("tabs"));
    assert.equal(await metric(server, "floodgate_compression_frames_total"), 0, "ws compresses");
    await native.close();
    await zipped.close();
  });
});
