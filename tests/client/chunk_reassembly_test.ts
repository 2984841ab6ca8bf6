import assert from "node:assert/strict";
import { ChunkReassembly } from "../../lib/client/chunk_reassembly.ts";
import type { ChunkErrorCode } from "../../lib/client/events.ts";
import { jsonCodec } from "../../lib/protocol/codec.ts";

function reassembly(limits = {}) {
  const errors: { code: ChunkErrorCode; message: string }[] = [];
  const chunks = new ChunkReassembly(limits, (code, message) => errors.push({ code, message }));
  return { chunks, errors };
}

const start = (messageId: number, totalBytes: number) => ({
  type: "chunked.start",
  messageId,
  totalChunks: 1,
  totalBytes,
});

Deno.test("ChunkReassembly joins the codec's chunks back into the frame", () => {
  const json = jsonCodec();
  const whole = json.encode({ type: "message", topic: "t", seq: 1, ts: 1, data: "é".repeat(900) });
  const { chunks, errors } = reassembly();
  const out = json.chunk(whole, 3, 256).map((f) => chunks.push(json.decode(f) as never));
  assert.equal(out.at(-1), whole);
  assert.deepEqual(errors, []);
});

Deno.test("ChunkReassembly reports each refusal as a chunk_* code naming the client option", () => {
  const { chunks, errors } = reassembly({
    maxMessageBytes: 100,
    maxPendingBytes: 150,
    maxTransfers: 2,
  });
  chunks.push(start(1, 101));
  chunks.push(start(2, 100));
  chunks.push(start(3, 60));
  chunks.push(start(4, 40));
  chunks.push(start(5, 10));
  chunks.push({ type: "chunked.data", messageId: 2, chunkIndex: 1, data: "x" });
  chunks.push({ type: "chunked.data", messageId: 9, chunkIndex: "0", data: "x" });
  assert.deepEqual(errors.map((e) => e.code), [
    "chunk_too_large",
    "chunk_limit",
    "chunk_limit",
    "chunk_sequence",
    "chunk_sequence",
  ]);
  assert.match(errors[0].message, /chunks\.maxMessageBytes/);
  assert.match(errors[1].message, /chunks\.maxPendingBytes/);
  assert.match(errors[2].message, /chunks\.maxTransfers/);
});

Deno.test("ChunkReassembly.expire reports transfers past chunks.timeoutMs as chunk_timeout", () => {
  const { chunks, errors } = reassembly({ timeoutMs: 1000 });
  chunks.push(start(1, 10));
  chunks.expire(Date.now());
  assert.equal(errors.length, 0, "within the limit");
  chunks.expire(Date.now() + 1001);
  assert.deepEqual(errors.map((e) => e.code), ["chunk_timeout"]);
  assert.match(errors[0].message, /chunks\.timeoutMs/);
  assert.equal(chunks.push({ type: "chunked.end", messageId: 1 }), undefined);
  assert.equal(errors.length, 1, "later pieces of the discarded transfer are ignored");
});
