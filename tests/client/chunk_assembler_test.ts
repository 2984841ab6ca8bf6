import assert from "node:assert/strict";
import { ChunkAssembler, ChunkError } from "../../lib/client/chunk_assembler.ts";
import type { ChunkFrame } from "../../lib/client/wire.ts";
import { msgpackCodec } from "../../lib/client/codec.ts";
import { chunkFrames } from "../_support/chunk_frames.ts";

function feed(a: ChunkAssembler, frames: ChunkFrame[]): (string | Uint8Array)[] {
  const out: (string | Uint8Array)[] = [];
  for (const f of frames) {
    const r = a.push(f);
    if (r !== undefined) out.push(r);
  }
  return out;
}

const bigFrame = JSON.stringify({
  type: "message",
  topic: "tabs.sync",
  seq: 7,
  ts: 1,
  data: {
    tree: Array.from({ length: 3000 }, (_, i) => ({ id: i, title: `Tab ${i} — ünïcødé 😀` })),
  },
});

Deno.test("ChunkAssembler reassembles a JSON frame split into text chunks", () => {
  const a = new ChunkAssembler();
  const frames = chunkFrames("m1", bigFrame, 16 * 1024);
  assert.ok(frames.length > 5, "several chunks");
  assert.deepEqual(feed(a, frames), [bigFrame]);
  assert.equal(a.pendingBytes, 0);
  assert.equal(a.transfers, 0);
});

Deno.test("ChunkAssembler reassembles MessagePack bytes and interleaves two transfers", () => {
  const a = new ChunkAssembler();
  const bytes = msgpackCodec.encode(JSON.parse(bigFrame)) as Uint8Array;
  const one = chunkFrames(1, bytes, 10_000);
  const two = chunkFrames(2, '{"type":"message","topic":"t","seq":1,"ts":1,"data":"small"}', 10);
  // Interleave: all of two's frames between one's first and second data frame.
  const interleaved = [one[0], one[1], ...two, ...one.slice(2)];
  const [small, big] = feed(a, interleaved);
  assert.equal(typeof small, "string");
  assert.ok(big instanceof Uint8Array);
  assert.deepEqual(msgpackCodec.decode(big), JSON.parse(bigFrame));
});

Deno.test("ChunkAssembler refuses a declared size over maxMessageBytes and ignores the rest", () => {
  const a = new ChunkAssembler({ maxMessageBytes: 1000 });
  const frames = chunkFrames("big", bigFrame, 500);
  assert.throws(
    () => a.push(frames[0]),
    (e) => e instanceof ChunkError && e.code === "chunk_too_large",
  );
  assert.deepEqual(
    feed(a, frames.slice(1)),
    [],
    "later frames of the refused transfer are ignored",
  );
  assert.equal(a.pendingBytes, 0);
});

Deno.test("ChunkAssembler refuses chunks past the declared size", () => {
  const a = new ChunkAssembler();
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 4 });
  a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "abc" });
  assert.throws(
    () => a.push({ type: "chunked.data", messageId: 1, chunkIndex: 1, data: "de" }),
    (e) => e instanceof ChunkError && e.code === "chunk_too_large",
  );
  assert.equal(a.pendingBytes, 0, "the transfer's memory is released");
});

Deno.test("ChunkAssembler bounds the bytes held by unfinished transfers", () => {
  const a = new ChunkAssembler({ maxPendingBytes: 100, maxMessageBytes: 1000 });
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 3, totalBytes: 180 });
  a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "x".repeat(60) });
  assert.throws(
    () => a.push({ type: "chunked.data", messageId: 1, chunkIndex: 1, data: "x".repeat(60) }),
    (e) => e instanceof ChunkError && e.code === "chunk_limit",
  );
  assert.equal(a.pendingBytes, 0);
});

Deno.test("ChunkAssembler limits concurrent transfers", () => {
  const a = new ChunkAssembler({ maxTransfers: 2 });
  for (const id of [1, 2]) {
    a.push({ type: "chunked.start", messageId: id, totalChunks: 1, totalBytes: 1 });
  }
  assert.throws(
    () => a.push({ type: "chunked.start", messageId: 3, totalChunks: 1, totalBytes: 1 }),
    (e) => e instanceof ChunkError && e.code === "chunk_limit",
  );
  assert.equal(a.transfers, 2);
});

Deno.test("ChunkAssembler rejects out-of-order chunks and an end before all chunks", () => {
  const a = new ChunkAssembler();
  a.push({ type: "chunked.start", messageId: "x", totalChunks: 3, totalBytes: 3 });
  assert.throws(
    () => a.push({ type: "chunked.data", messageId: "x", chunkIndex: 1, data: "b" }),
    (e) => e instanceof ChunkError && e.code === "chunk_sequence",
  );
  a.push({ type: "chunked.start", messageId: "y", totalChunks: 2, totalBytes: 2 });
  a.push({ type: "chunked.data", messageId: "y", chunkIndex: 0, data: "a" });
  assert.throws(
    () => a.push({ type: "chunked.end", messageId: "y" }),
    (e) => e instanceof ChunkError && /1\/2 chunks/.test(e.message),
  );
  assert.throws(
    () => a.push({ type: "chunked.data", messageId: "never-started", chunkIndex: 0, data: "a" }),
    (e) => e instanceof ChunkError && e.code === "chunk_sequence",
  );
});

Deno.test("ChunkAssembler discards a transfer that outlives its time limit", () => {
  let now = 0;
  const a = new ChunkAssembler({ timeoutMs: 1000 }, () => now);
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 2 });
  a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "a" });
  now = 500;
  assert.deepEqual(a.sweep(), [], "still within the limit");
  now = 1001;
  const [err] = a.sweep();
  assert.equal(err.code, "chunk_timeout");
  assert.equal(err.messageId, 1);
  assert.equal(a.pendingBytes, 0);
  assert.equal(a.push({ type: "chunked.data", messageId: 1, chunkIndex: 1, data: "b" }), undefined);
});

Deno.test("ChunkAssembler times out on the next frame even without a sweep", () => {
  let now = 0;
  const a = new ChunkAssembler({ timeoutMs: 1000 }, () => now);
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 2 });
  now = 2000;
  assert.throws(
    () => a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "a" }),
    (e) => e instanceof ChunkError && e.code === "chunk_timeout",
  );
});
