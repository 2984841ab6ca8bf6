import assert from "node:assert/strict";
import { ChunkAssembler, ReassemblyBudget } from "../../lib/protocol/chunk_assembler.ts";
import { chunkText } from "../../lib/protocol/chunking.ts";
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
  const a = new ChunkAssembler({ timeoutMs: 100, budget, now: () => now });
  a.push({ type: "chunked.start", messageId: 1, totalChunks: 1, totalBytes: 10 });
  now = 50;
  a.push({ type: "chunked.start", messageId: 2, totalChunks: 1, totalBytes: 10 });
  now = 120;
  assert.deepEqual(a.expire(), [1]);
  assert.equal(budget.used, 10);
  assert.equal(a.push({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: "x" }), undefined);
  now = 200;
  assert.deepEqual(a.expire(), [2]);
  assert.equal(budget.used, 0);
});
