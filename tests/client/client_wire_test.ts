/**
 * The SDK against a scripted peer, for what the real server never does: select
 * no subprotocol, break a chunk sequence, leave a chunked transfer unfinished.
 * It also watches the exact bytes the client sends in MessagePack. Everything
 * the server does is tested against it in client_test.ts and
 * client_payload_test.ts.
 */
import assert from "node:assert/strict";
import { connect, type FloodgateClient } from "../../lib/client/client.ts";
import type { Message } from "../../lib/client/events.ts";
import { type Codec, jsonCodec, msgpackCodec } from "../../lib/protocol/codec.ts";
import { type PeerConnection, ScriptedPeer } from "../_support/scripted_peer.ts";
import { waitUntil } from "../_support/wait.ts";

const json = jsonCodec();
const msgpack = msgpackCodec();

function send(c: PeerConnection, codec: Codec, frame: object): void {
  c.socket.send(codec.encode(frame));
}

/** Opens the session as the server would: welcome, then subscribed for each topic. */
function greet(c: PeerConnection, codec: Codec, topics: string[]): void {
  send(c, codec, { type: "welcome", clientId: "c1", epoch: "e1", heartbeatMs: 15000 });
  for (const topic of topics) send(c, codec, { type: "subscribed", topic, seq: 0 });
}

function decoded(c: PeerConnection, codec: Codec): Record<string, unknown>[] {
  return c.received.map((d) => codec.decode(d) as Record<string, unknown>);
}

async function withPeer(
  protocols: string[],
  fn: (peer: ScriptedPeer) => Promise<FloodgateClient>,
): Promise<void> {
  const peer = new ScriptedPeer(protocols);
  let fg: FloodgateClient | undefined;
  try {
    fg = await fn(peer);
  } finally {
    await fg?.close();
    await peer.close();
  }
}

Deno.test("the msgpack codec is used when the server selects floodgate.v1.msgpack", async () => {
  await withPeer(["floodgate.v1.msgpack"], async (peer) => {
    const fg = connect(peer.url, { codec: "msgpack" });
    const got: Message[] = [];
    fg.subscribe("t", (m) => got.push(m));
    const c = await peer.connection();
    assert.equal(c.requestedProtocol, "floodgate.v1.msgpack");
    greet(c, msgpack, []);
    await waitUntil(() => c.received.length >= 1, 5000, "the subscribe");
    assert.ok(c.received[0] instanceof ArrayBuffer, "the client sends binary frames");
    assert.deepEqual(decoded(c, msgpack)[0], { type: "subscribe", topics: ["t"] });
    send(c, msgpack, { type: "subscribed", topic: "t", seq: 0 });
    send(c, msgpack, {
      type: "batch",
      messages: [
        { type: "message", topic: "t", seq: 1, ts: 1.5, data: { bin: new Uint8Array([1, 2]) } },
        { type: "message", topic: "t", seq: 2, ts: 2.5, data: "two" },
      ],
    });
    send(c, msgpack, { type: "ping", id: 1234 });
    await waitUntil(() => got.length === 2 && c.received.length === 2, 5000, "messages and pong");
    assert.equal(fg.codec, "msgpack");
    assert.deepEqual(got[0].data, { bin: new Uint8Array([1, 2]) });
    assert.deepEqual(decoded(c, msgpack)[1], { type: "pong", id: 1234 });
    return fg;
  });
});

Deno.test("a client asking for msgpack speaks JSON to a server that selects no subprotocol", async () => {
  await withPeer([], async (peer) => {
    const fg = connect(peer.url, { codec: "msgpack" });
    fg.subscribe("t");
    const c = await peer.connection();
    greet(c, json, []);
    await waitUntil(() => c.received.length >= 1, 5000, "the subscribe");
    assert.equal(typeof c.received[0], "string");
    assert.equal(fg.codec, "json");
    return fg;
  });
});

Deno.test("a broken chunk sequence is discarded as chunk_sequence and the connection carries on", async () => {
  await withPeer([], async (peer) => {
    const fg = connect(peer.url);
    const errors: string[] = [];
    fg.on("error", (e) => errors.push(e.code));
    const got: unknown[] = [];
    fg.subscribe("t", (m) => got.push(m.data));
    const c = await peer.connection();
    greet(c, json, ["t"]);
    const [start, first, second] = json.chunk(
      json.encode({ type: "message", topic: "t", seq: 1, ts: 1, data: "x".repeat(2000) }),
      1,
      512,
    );
    for (const f of [start, second, first]) c.socket.send(f); // out of order
    send(c, json, { type: "chunked.data", messageId: 2, chunkIndex: "one", data: "x" });
    send(c, json, { type: "message", topic: "t", seq: 2, ts: 2, data: "next" });
    await waitUntil(() => got.length === 1, 5000, "the next message");
    assert.deepEqual(errors, ["chunk_sequence", "chunk_sequence"]);
    assert.deepEqual(got, ["next"]);
    return fg;
  });
});

Deno.test("a chunked transfer not finished within chunks.timeoutMs is discarded as chunk_timeout", async () => {
  await withPeer([], async (peer) => {
    const fg = connect(peer.url, { chunks: { timeoutMs: 100 } });
    const errors: { code: string; message: string }[] = [];
    fg.on("error", (e) => errors.push(e));
    fg.subscribe("t");
    const c = await peer.connection();
    // A short heartbeat makes the client check its transfers every 100 ms.
    send(c, json, { type: "welcome", clientId: "c1", epoch: "e1", heartbeatMs: 400 });
    send(c, json, { type: "chunked.start", messageId: 5, totalChunks: 2, totalBytes: 4 });
    send(c, json, { type: "chunked.data", messageId: 5, chunkIndex: 0, data: "ab" });
    await waitUntil(() => errors.length === 1, 5000, "the timeout");
    assert.equal(errors[0].code, "chunk_timeout");
    assert.match(errors[0].message, /within 100 ms \(chunks\.timeoutMs\)/);
    send(c, json, { type: "chunked.data", messageId: 5, chunkIndex: 1, data: "cd" });
    send(c, json, { type: "chunked.end", messageId: 5 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(errors.length, 1, "late pieces of the discarded transfer are ignored");
    assert.equal(fg.stats.chunkedFrames, 0);
    return fg;
  });
});
