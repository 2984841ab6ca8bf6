import assert from "node:assert/strict";
import { ChunkAssembler, ReassemblyBudget } from "../../lib/protocol/chunk_assembler.ts";
import { chunkText } from "../../lib/protocol/chunking.ts";
import { msgpackCodec } from "../../lib/protocol/codec.ts";
import { tabTree } from "../../lib/load/payloads.ts";
import type { ChunkedFrame } from "../../lib/protocol/frames.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";

const frames = (text: string, id: number, limit = 300) =>
  chunkText(text, id, limit).map((f) => JSON.parse(f) as ChunkedFrame);

function refusal(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error("expected a ProtocolError");
}

Deno.test("ChunkAssembler joins chunks of interleaved messages back into their frames", () => {
  const a = new ChunkAssembler({ maxMessageBytes: 1 << 20 });
  const one = JSON.stringify({ type: "publish", topic: "t", data: 'é😀"'.repeat(400) });
  const two = JSON.stringify({ type: "publish", topic: "u", data: "x".repeat(900) });
  const f1 = frames(one, 1);
  const f2 = frames(two, 2);
  const out: (string | Uint8Array | undefined)[] = [];
  for (let i = 0; i < Math.max(f1.length, f2.length); i++) {
    if (i < f1.length) out.push(a.push(f1[i]));
    if (i < f2.length) out.push(a.push(f2[i]));
  }
  assert.deepEqual(out.filter((x) => x !== undefined), [two, one]);
  assert.equal(a.openMessages, 0);
  assert.equal(a.reservedBytes, 0);
});

Deno.test("ChunkAssembler joins binary chunks", () => {
  const a = new ChunkAssembler();
  a.push({ type: "chunked.start", messageId: 5, totalChunks: 2, totalBytes: 5 });
  a.push({ type: "chunked.data", messageId: 5, chunkIndex: 0, data: new Uint8Array([1, 2]) });
  a.push({ type: "chunked.data", messageId: 5, chunkIndex: 1, data: new Uint8Array([3, 4, 5]) });
  assert.deepEqual(a.push({ type: "chunked.end", messageId: 5 }), new Uint8Array([1, 2, 3, 4, 5]));
});

Deno.test("ChunkAssembler refuses a message over the limit and ignores its remaining chunks", () => {
  const a = new ChunkAssembler({ maxMessageBytes: 1000 });
  const f = frames("y".repeat(2000), 7);
  const err = refusal(() => a.push(f[0]));
  assert.equal(err.code, "too_large");
  assert.equal(err.id, 7);
  assert.match(err.message, /2000 bytes; the limit is 1000/);
  for (const rest of f.slice(1)) assert.equal(a.push(rest), undefined);
  assert.equal(a.reservedBytes, 0);
});

Deno.test("ChunkAssembler bounds unfinished bytes per connection and across connections", () => {
  const budget = new ReassemblyBudget(1500);
  const a = new ChunkAssembler({ maxMessageBytes: 1000, budget });
  const b = new ChunkAssembler({ maxMessageBytes: 1000, budget });
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 800 });
  assert.equal(
    refusal(() => a.push({ type: "chunked.start", messageId: 2, totalChunks: 1, totalBytes: 300 }))
      .code,
    "limit_reached",
  );
  b.push({ type: "chunked.start", messageId: 1, totalChunks: 1, totalBytes: 700 });
  assert.equal(budget.used, 1500);
  assert.equal(
    refusal(() => b.push({ type: "chunked.start", messageId: 3, totalChunks: 1, totalBytes: 100 }))
      .code,
    "limit_reached",
  );
  a.clear();
  assert.equal(budget.used, 700);
  b.push({ type: "chunked.start", messageId: 4, totalChunks: 1, totalBytes: 100 });
  assert.equal(budget.used, 800);
});

Deno.test("ChunkAssembler refuses out-of-order chunks, overlong data and short messages", () => {
  const a = new ChunkAssembler();
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 4 });
  assert.equal(
    refusal(() => a.push({ type: "chunked.data", messageId: 1, chunkIndex: 1, data: "ab" })).code,
    "invalid_frame",
  );
  assert.equal(a.openMessages, 0, "the broken message is dropped");

  a.push({ type: "chunked.start", messageId: 2, totalChunks: 1, totalBytes: 2 });
  assert.equal(
    refusal(() => a.push({ type: "chunked.data", messageId: 2, chunkIndex: 0, data: "abc" })).code,
    "too_large",
  );

  a.push({ type: "chunked.start", messageId: 3, totalChunks: 2, totalBytes: 4 });
  a.push({ type: "chunked.data", messageId: 3, chunkIndex: 0, data: "ab" });
  assert.equal(refusal(() => a.push({ type: "chunked.end", messageId: 3 })).code, "invalid_frame");

  assert.equal(refusal(() => a.push({ type: "chunked.end", messageId: 99 })).code, "invalid_frame");
});

Deno.test("ChunkAssembler.expire drops messages older than the timeout", () => {
  let now = 0;
  const budget = new ReassemblyBudget(1000);
  const a = new ChunkAssembler({
    timeoutMs: 100,
    budget,
    now: () => now,
    limitNames: { timeoutMs: "--reassembly-timeout" },
  });
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 1, totalBytes: 10 });
  now = 50;
  a.push({ type: "chunked.start", messageId: 2, totalChunks: 1, totalBytes: 10 });
  assert.deepEqual(a.expire(), [], "both within the limit");
  now = 120;
  const [err, ...others] = a.expire();
  assert.deepEqual(others, []);
  assert.equal(err.code, "invalid_frame");
  assert.equal(err.id, 1);
  assert.match(err.message, /not finished within 100 ms \(--reassembly-timeout\)/);
  assert.equal(budget.used, 10);
  assert.equal(a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "x" }), undefined);
  now = 200;
  assert.deepEqual(a.expire().map((e) => e.id), [2]);
  assert.equal(budget.used, 0);
});

Deno.test("ChunkAssembler bounds pending bytes apart from the message size, and open messages", () => {
  const a = new ChunkAssembler({
    maxMessageBytes: 1000,
    maxPendingBytes: 1500,
    maxOpenMessages: 2,
    limitNames: {
      maxPendingBytes: "chunks.maxPendingBytes",
      maxOpenMessages: "chunks.maxTransfers",
    },
  });
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 1, totalBytes: 1000 });
  const pending = refusal(() =>
    a.push({ type: "chunked.start", messageId: 2, totalChunks: 1, totalBytes: 600 })
  );
  assert.equal(pending.code, "limit_reached");
  assert.match(pending.message, /limit is 1500 \(chunks\.maxPendingBytes\)/);
  a.push({ type: "chunked.start", messageId: 3, totalChunks: 1, totalBytes: 400 });
  const count = refusal(() =>
    a.push({ type: "chunked.start", messageId: 4, totalChunks: 1, totalBytes: 1 })
  );
  assert.equal(count.code, "limit_reached");
  assert.match(count.message, /limit is 2 \(chunks\.maxTransfers\)/);
  assert.equal(a.openMessages, 2);
  assert.equal(a.reservedBytes, 1400);
});

Deno.test("ChunkAssembler names the limit a refusal is about as the caller sets it", () => {
  const a = new ChunkAssembler({
    maxMessageBytes: 10,
    limitNames: { maxMessageBytes: "chunks.maxMessageBytes" },
  });
  const err = refusal(() =>
    a.push({ type: "chunked.start", messageId: 1, totalChunks: 1, totalBytes: 11 })
  );
  assert.match(err.message, /11 bytes; the limit is 10 \(chunks\.maxMessageBytes\)/);
});

Deno.test("ChunkAssembler reassembles a 424 KB MessagePack frame from the codec's chunks", () => {
  const mp = msgpackCodec();
  const whole = mp.encode({
    type: "message",
    topic: "tabs",
    seq: 1,
    ts: 1,
    data: tabTree(424_000),
  });
  const a = new ChunkAssembler({ maxMessageBytes: 1 << 20 });
  let out: string | Uint8Array | undefined;
  const chunks = mp.chunk(whole, 9, 64 * 1024);
  assert.ok(chunks.length >= 8, `${chunks.length} frames: start, 6 or more pieces, end`);
  for (const f of chunks) out = a.push(mp.decode(f) as ChunkedFrame);
  assert.deepEqual(out, whole);
  assert.equal(a.reservedBytes, 0);
});

Deno.test("ChunkAssembler refuses a message mixing text and binary chunks", () => {
  const a = new ChunkAssembler();
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 4 });
  a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "ab" });
  const err = refusal(() =>
    a.push({ type: "chunked.data", messageId: 1, chunkIndex: 1, data: new Uint8Array(2) })
  );
  assert.equal(err.code, "invalid_frame");
  assert.equal(a.openMessages, 0);
});
