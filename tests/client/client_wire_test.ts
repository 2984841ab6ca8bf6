/**
 * The SDK's handling of frames the server does not send yet (issue 4): chunked
 * frames, merge-patch messages and the MessagePack codec. A scripted peer sends
 * synthetic frames over a real WebSocket; the real-server versions of these
 * tests come with the server side.
 */
import assert from "node:assert/strict";
import { connect, type FloodgateClient } from "../../lib/client/client.ts";
import { type Codec, jsonCodec, msgpackCodec } from "../../lib/client/codec.ts";
import type { Message } from "../../lib/client/events.ts";
import { utf8Length } from "../../lib/protocol/encode.ts";
import { chunkFrames } from "../_support/chunk_frames.ts";
import { type PeerConnection, ScriptedPeer } from "../_support/scripted_peer.ts";
import { waitUntil } from "../_support/wait.ts";

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

/** A 424 KB state tree like the one in the large-payload issue. */
const tabsTree = {
  windows: Array.from({ length: 40 }, (_, w) => ({
    id: w,
    tabs: Array.from({ length: 60 }, (_, t) => ({
      id: `${w}-${t}`,
      title: `Terminal ${w}.${t} — build output ✓`,
      url: `https://example.test/${w}/${t}?q=${"x".repeat(80)}`,
    })),
  })),
};

Deno.test("the msgpack codec is used when the server selects floodgate.v1.msgpack", async () => {
  await withPeer(["floodgate.v1.msgpack"], async (peer) => {
    const fg = connect(peer.url, { codec: "msgpack" });
    const got: Message[] = [];
    fg.subscribe("t", (m) => got.push(m));
    const c = await peer.connection();
    assert.equal(c.requestedProtocol, "floodgate.v1.msgpack");
    greet(c, msgpackCodec, []);
    await waitUntil(() => c.received.length >= 1, 5000, "the subscribe");
    assert.ok(c.received[0] instanceof ArrayBuffer, "the client sends binary frames");
    assert.deepEqual(decoded(c, msgpackCodec)[0], { type: "subscribe", topics: ["t"] });
    send(c, msgpackCodec, { type: "subscribed", topic: "t", seq: 0 });
    send(c, msgpackCodec, {
      type: "batch",
      messages: [
        { type: "message", topic: "t", seq: 1, ts: 1.5, data: { bin: new Uint8Array([1, 2]) } },
        { type: "message", topic: "t", seq: 2, ts: 2.5, data: "two" },
      ],
    });
    send(c, msgpackCodec, { type: "ping", id: 1234 });
    await waitUntil(() => got.length === 2 && c.received.length === 2, 5000, "messages and pong");
    assert.equal(fg.codec, "msgpack");
    assert.deepEqual(got[0].data, { bin: new Uint8Array([1, 2]) });
    assert.deepEqual(decoded(c, msgpackCodec)[1], { type: "pong", id: 1234 });
    return fg;
  });
});

Deno.test("a client asking for msgpack speaks JSON to a server that selects no subprotocol", async () => {
  await withPeer([], async (peer) => {
    const fg = connect(peer.url, { codec: "msgpack" });
    fg.subscribe("t");
    const c = await peer.connection();
    greet(c, jsonCodec, []);
    await waitUntil(() => c.received.length >= 1, 5000, "the subscribe");
    assert.equal(typeof c.received[0], "string");
    assert.equal(fg.codec, "json");
    return fg;
  });
});

for (const codec of [jsonCodec, msgpackCodec]) {
  Deno.test(`a chunked ${codec.name} message is reassembled; a small one sent between its chunks arrives first`, async () => {
    await withPeer([msgpackCodec.subprotocol], async (peer) => {
      const fg = connect(peer.url, { codec: codec.name });
      const order: string[] = [];
      let big: unknown;
      fg.subscribe("tabs.sync", (m) => {
        order.push("big");
        big = m.data;
      });
      fg.subscribe("small", () => order.push("small"));
      const c = await peer.connection();
      greet(c, codec, ["tabs.sync", "small"]);
      const whole = codec.encode({
        type: "message",
        topic: "tabs.sync",
        seq: 1,
        ts: 1,
        data: tabsTree,
      });
      const size = typeof whole === "string" ? utf8Length(whole) : whole.byteLength;
      assert.ok(size > 400_000, `a large frame (${size} bytes)`);
      const frames = chunkFrames(7, whole, 64 * 1024);
      send(c, codec, frames[0]);
      send(c, codec, frames[1]);
      send(c, codec, { type: "message", topic: "small", seq: 1, ts: 1, data: "hi" });
      for (const f of frames.slice(2)) send(c, codec, f);
      await waitUntil(() => order.length === 2, 5000, "both messages");
      assert.deepEqual(order, ["small", "big"]);
      assert.deepEqual(big, tabsTree);
      assert.equal(fg.stats.chunkedFrames, 1);
      return fg;
    });
  });
}

Deno.test("a chunked message over the client's limit is discarded with an error, and its seq shows as a gap", async () => {
  await withPeer([], async (peer) => {
    const fg = connect(peer.url, { chunks: { maxMessageBytes: 10_000 } });
    const errors: string[] = [];
    const gaps: [number, number, string][] = [];
    fg.on("error", (e) => errors.push(e.code));
    fg.on("gap", (g) => gaps.push([g.fromSeq, g.toSeq, g.reason]));
    const got: number[] = [];
    fg.subscribe("t", (m) => got.push(m.seq));
    const c = await peer.connection();
    greet(c, jsonCodec, ["t"]);
    const whole = jsonCodec.encode({ type: "message", topic: "t", seq: 1, ts: 1, data: tabsTree });
    for (const f of chunkFrames(1, whole as string, 64 * 1024)) send(c, jsonCodec, f);
    send(c, jsonCodec, { type: "message", topic: "t", seq: 2, ts: 2, data: "next" });
    await waitUntil(() => got.length === 1, 5000, "the next message");
    assert.deepEqual(errors, ["chunk_too_large"]);
    assert.deepEqual(gaps, [[1, 1, "missing"]]);
    assert.deepEqual(got, [2]);
    return fg;
  });
});

Deno.test("merge-patch and delete messages update the keyed state store", async () => {
  await withPeer([], async (peer) => {
    const fg = connect(peer.url);
    const sessions = fg.state("sessions");
    const c = await peer.connection();
    send(c, jsonCodec, { type: "welcome", clientId: "c1", epoch: "e1", heartbeatMs: 15000 });
    send(c, jsonCodec, {
      type: "snapshot",
      topic: "sessions",
      seq: 3,
      state: { "s-1": { status: "busy", cpu: 3, tags: ["a"] }, "s-2": { status: "idle" } },
    });
    send(c, jsonCodec, { type: "subscribed", topic: "sessions", seq: 3 });
    send(c, jsonCodec, {
      type: "batch",
      messages: [
        {
          type: "message",
          topic: "sessions",
          seq: 4,
          key: "s-1",
          ts: 4,
          op: "patch",
          data: { cpu: null, status: "idle" },
        },
        { type: "message", topic: "sessions", seq: 5, key: "s-2", ts: 5, op: "delete" },
        {
          type: "message",
          topic: "sessions",
          seq: 6,
          key: "s-3",
          ts: 6,
          op: "patch",
          data: { status: "new" },
        },
      ],
    });
    await waitUntil(() => sessions.seq === 6, 5000, "three updates");
    assert.deepEqual(sessions.toObject(), {
      "s-1": { status: "idle", tags: ["a"] },
      "s-3": { status: "new" },
    });
    return fg;
  });
});
