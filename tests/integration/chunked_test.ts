/**
 * Large payloads over real sockets: chunked framing, interleaving of small
 * messages between chunks, a client stalling mid-transfer, and the limits on
 * chunked messages clients send.
 */
import assert from "node:assert/strict";
import type { ClientStats } from "../../lib/hub/client_stats.ts";
import { tabTree } from "../../lib/load/payloads.ts";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import { ChunkAssembler } from "../../lib/protocol/chunk_assembler.ts";
import { chunkText } from "../../lib/protocol/chunking.ts";
import type { ChunkedFrame, MessageFrame, ServerFrame } from "../../lib/protocol/frames.ts";
import type { FloodgateServer } from "../../lib/server.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

const KiB = 1024;
const quiet = { heartbeatMs: 60_000, heartbeatTimeoutMs: 60_000 };

async function clientStats(server: FloodgateServer): Promise<ClientStats[]> {
  return (await (await fetch(`${server.url}/stats`)).json()).clients;
}

Deno.test("a 424 KB payload arrives intact in chunks, none over --chunk-bytes", async () => {
  await withServer({ ...quiet }, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    await c.waitFor(() => c.ofType("subscribed").length === 1);
    const tree = tabTree(424_000);
    assert.equal((await publish(server, { topic: "tabs", key: "w1", data: tree })).status, 202);
    await c.waitFor(() => c.messages("tabs").length === 1, 10_000, "the large message");
    assert.deepEqual(c.messages("tabs")[0].data, tree);

    const chunked = c.wire.filter((w) => w.frame.type.startsWith("chunked."));
    const data = chunked.filter((w) => w.frame.type === "chunked.data");
    assert.ok(data.length >= 7, `${data.length} chunks for 424 KB at 64 KiB`);
    for (const w of c.wire) {
      assert.ok(w.bytes <= 64 * KiB, `a ${w.frame.type} frame of ${w.bytes} bytes`);
    }
    assert.equal(chunked[0].frame.type, "chunked.start");
    assert.equal(chunked.at(-1)!.frame.type, "chunked.end");
    await c.close();
  });
});

Deno.test("a small message published during a transfer arrives before chunked.end", async () => {
  // Small chunks make the transfer take many event-loop turns (one chunk per turn).
  await withServer({ ...quiet, chunkBytes: 2 * KiB }, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=tabs,terminal"));
    await c.waitFor(() => c.ofType("subscribed").length === 2);
    const tree = tabTree(424_000);
    await publish(server, { topic: "tabs", key: "w1", data: tree });
    await c.waitFor(() => c.wire.some((w) => w.frame.type === "chunked.start"), 5000, "start");
    assert.equal((await publish(server, { topic: "terminal", data: "$ ls" })).status, 202);
    await c.waitFor(() => c.messages("tabs").length === 1, 20_000, "the large message");

    const types = c.wire.map((w) =>
      w.frame.type === "message" ? (w.frame as MessageFrame).topic : w.frame.type
    );
    const small = types.indexOf("terminal");
    const end = types.indexOf("chunked.end");
    assert.ok(small >= 0, "the small message arrived");
    assert.ok(small < end, `small message at ${small}, chunked.end at ${end}`);
    const chunksAfter = types.slice(small).filter((t) => t === "chunked.data").length;
    assert.ok(chunksAfter > 10, `only ${chunksAfter} chunks followed: it waited for the transfer`);
    assert.deepEqual(c.messages("tabs")[0].data, tree);
    await c.close();
  });
});

Deno.test("messages of the same topic keep their order behind a chunked message", async () => {
  await withServer({ ...quiet, chunkBytes: 2 * KiB }, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    await c.waitFor(() => c.ofType("subscribed").length === 1);
    await publish(server, [
      { topic: "tabs", key: "w1", data: tabTree(100_000) },
      { topic: "tabs", key: "w2", data: "small" },
    ]);
    await c.waitFor(() => c.messages("tabs").length === 2, 10_000, "both messages");
    assert.deepEqual(c.messages("tabs").map((m) => m.seq), [1, 2]);
    await c.close();
  });
});

/**
 * Reads a raw connection's frames, reassembling chunks and answering pings,
 * until `until` holds or `ms` pass.
 */
async function readRaw(
  raw: RawWebSocket,
  ms: number,
  until: (frames: ServerFrame[]) => boolean,
): Promise<{ frames: ServerFrame[]; close?: { code: number } }> {
  const frames: ServerFrame[] = [];
  const chunks = new ChunkAssembler();
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !until(frames)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const event = await Promise.race([
      raw.read(),
      new Promise<"timeout">((
        r,
      ) => (timer = setTimeout(() => r("timeout"), deadline - Date.now()))),
    ]);
    clearTimeout(timer);
    if (event === "timeout" || event === undefined) break;
    if (event.kind === "close") return { frames, close: { code: event.code } };
    if (event.kind !== "text") continue;
    let frame = JSON.parse(event.text) as ServerFrame;
    if (frame.type === "ping") await raw.sendText(JSON.stringify({ type: "pong", id: frame.id }));
    if (frame.type.startsWith("chunked.")) {
      const whole = chunks.push(frame as ChunkedFrame);
      if (whole === undefined) continue;
      frame = JSON.parse(whole as string);
    }
    frames.push(...(frame.type === "batch" ? frame.messages : [frame]));
  }
  return { frames };
}

Deno.test("a client stalling mid-transfer keeps only the latest state per key; others get everything", async () => {
  const settings = { ...quiet, maxInflightBytes: 256 * KiB, maxQueueBytes: 1024 * KiB };
  await withServer(settings, async (server) => {
    const stalled = await RawWebSocket.connect(wsUrl(server, "?topics=tabs"), {
      protocols: ["floodgate.v1.json"],
    });
    const fast = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    await fast.waitFor(() => fast.ofType("subscribed").length === 1);
    // The stalled client reads the start of the first transfer, then stops (and never pongs).
    await publish(server, { topic: "tabs", key: "w1", data: tabTree(424_000, 1) });
    const head = await readRaw(stalled, 5000, (f) => f.some((x) => x.type === "subscribed"));
    assert.ok(head.frames.some((f) => f.type === "subscribed"));
    for (let v = 2; v <= 8; v++) {
      await publish(server, { topic: "tabs", key: "w1", data: tabTree(424_000, v) });
      await new Promise((r) => setTimeout(r, 100));
    }
    await fast.waitFor(() => fast.messages("tabs").length === 8, 20_000, "8 large messages");
    assert.deepEqual(
      fast.messages("tabs").map((m) => (m.data as { version: number }).version),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(fast.gaps().length, 0);

    const slow = (await clientStats(server)).find((c) =>
      c.id !== fast.ofType("welcome")[0].clientId
    )!;
    assert.ok(
      slow.chunked !== null && slow.chunked.sent < slow.chunked.total,
      `stalled mid-transfer: ${JSON.stringify(slow.chunked)}`,
    );
    // Chunks wait for pongs once the window (at most two chunks' worth, smaller for a client
    // that reads nothing) is unconfirmed: the rest stays unsent.
    assert.ok(slow.inflightBytes >= 64 * KiB, `only ${slow.inflightBytes} bytes in flight`);
    assert.ok(slow.inflightBytes > slow.windowBytes, `${slow.inflightBytes} bytes in flight`);
    assert.ok(slow.inflightBytes <= 200 * KiB, `${slow.inflightBytes} bytes in flight`);
    assert.ok(slow.queue.messages <= 2, `${slow.queue.messages} messages queued`);
    assert.ok(slow.coalesced > 0, "older versions were coalesced away");

    // When it reads again: the rest of the first transfer, a gap, then the latest version.
    const rest = await readRaw(
      stalled,
      10_000,
      (f) => f.some((x) => x.type === "message" && (x.data as { version: number }).version === 8),
    );
    const got = rest.frames.filter((f): f is MessageFrame => f.type === "message");
    const versions = got.map((m) => (m.data as { version: number }).version);
    assert.equal(versions.at(-1), 8, `versions read: ${versions}`);
    assert.ok(versions.length < 8, "not every version was kept for it");
    const gaps = rest.frames.filter((f) => f.type === "gap");
    assert.ok(gaps.length > 0 && gaps.every((g) => g.type === "gap" && g.reason === "coalesced"));
    const seqs = [
      ...got.map((m) => [m.seq, m.seq]),
      ...gaps.map((g) => g.type === "gap" ? [g.fromSeq, g.toSeq] : []),
    ];
    const covered = new Set<number>();
    for (const [a, b] of seqs) for (let s = a; s <= b; s++) covered.add(s);
    assert.deepEqual(
      [...covered].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
      "every seq: message or gap",
    );
    stalled.abort();
    await fast.close();
  });
});

Deno.test("a client stalling on unkeyed large payloads is cut off with 4008 while others are served", async () => {
  const settings = {
    ...quiet,
    maxInflightBytes: 256 * KiB,
    maxQueueBytes: 1024 * KiB,
    slowTimeoutMs: 500,
  };
  await withServer(settings, async (server) => {
    const stalled = await RawWebSocket.connect(wsUrl(server, "?topics=tabs"), {
      protocols: ["floodgate.v1.json"],
    });
    const fast = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    await fast.waitFor(() => fast.ofType("subscribed").length === 1);
    for (let v = 1; v <= 10; v++) {
      await publish(server, { topic: "tabs", data: tabTree(424_000, v) });
      await new Promise((r) => setTimeout(r, 100));
    }
    await fast.waitFor(() => fast.messages("tabs").length === 10, 20_000, "10 large messages");
    const s = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(s.server.counters.disconnectsByCode["4008"], 1);
    assert.equal(s.clients.length, 1);
    stalled.abort();
    await fast.close();
  });
});

Deno.test("a client may publish a large message in chunks over WebSocket", async () => {
  await withServer({ ...quiet }, async (server) => {
    const sub = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    const pub = await TestClient.connect(wsUrl(server));
    await sub.waitFor(() => sub.ofType("subscribed").length === 1);
    const tree = tabTree(300_000);
    const frame = JSON.stringify({
      type: "publish",
      topic: "tabs",
      key: "w",
      data: tree,
      id: "big",
    });
    for (const f of chunkText(frame, 1, 60 * KiB)) pub.send(f);
    await pub.waitFor(() => pub.ofType("ack").length === 1, 10_000, "ack");
    assert.equal(pub.ofType("ack")[0].id, "big");
    await sub.waitFor(() => sub.messages("tabs").length === 1, 10_000, "the message");
    assert.deepEqual(sub.messages("tabs")[0].data, tree);
    await sub.close();
    await pub.close();
  });
});

Deno.test("an oversize chunked message is refused with too_large and the connection keeps working", async () => {
  await withServer({ ...quiet, maxMessageBytes: 100 * KiB }, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=feed"));
    await c.waitFor(() => c.ofType("subscribed").length === 1);
    const frame = JSON.stringify({ type: "publish", topic: "feed", data: "x".repeat(200 * KiB) });
    for (const f of chunkText(frame, 7, 32 * KiB)) c.send(f);
    c.send({ type: "publish", topic: "feed", data: "after", id: 2 });
    await c.waitFor(() => c.ofType("ack").length === 1, 5000, "ack of the normal publish");
    const errors = c.ofType("error");
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].code, "too_large");
    assert.equal(errors[0].id, 7);
    assert.match(errors[0].message, /limit is 102400/);
    await publish(server, { topic: "feed", data: "from http" });
    await c.waitFor(() => c.messages("feed").length === 2, 5000, "both messages");
    assert.deepEqual(c.messages("feed").map((m) => m.data), ["after", "from http"]);
    await c.close();
  });
});

Deno.test("an unfinished chunked message is dropped after --reassembly-timeout", async () => {
  await withServer({ heartbeatMs: 400, reassemblyTimeoutMs: 300 }, async (server) => {
    const c = await TestClient.connect(wsUrl(server));
    c.send({ type: "chunked.start", messageId: 3, totalChunks: 2, totalBytes: 10 });
    c.send({ type: "chunked.data", messageId: 3, chunkIndex: 0, data: '{"type"' });
    await c.waitFor(() => c.ofType("error").length === 1, 5000, "the timeout error");
    const [err] = c.ofType("error");
    assert.equal(err.id, 3);
    assert.match(err.message, /not finished within 300 ms/);
    c.send({ type: "ping", id: 1 });
    await c.waitFor(() => c.ofType("pong").length === 1, 5000, "pong");
    await c.close();
  });
});

Deno.test("a large snapshot reaches a new subscriber in chunks, in JSON and in MessagePack", async () => {
  await withServer({ ...quiet }, async (server) => {
    const tree = tabTree(300_000);
    await publish(server, { topic: "tabs", key: "w1", data: tree });
    for (const protocols of [undefined, ["floodgate.v1.msgpack"]]) {
      const c = await TestClient.connect(wsUrl(server, "?topics=tabs"), {}, protocols);
      await c.waitFor(() => c.ofType("subscribed").length === 1, 10_000, "subscribed");
      assert.deepEqual(c.ofType("snapshot")[0].state, { w1: tree });
      assert.ok(c.wire.some((w) => w.frame.type === "chunked.start"));
      for (const w of c.wire) assert.ok(w.bytes <= 64 * KiB);
      await c.close();
    }
  });
});
