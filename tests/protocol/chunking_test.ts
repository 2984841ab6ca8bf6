import assert from "node:assert/strict";
import { decode } from "@msgpack/msgpack";
import { chunkBinary, chunkText, MIN_CHUNK_BYTES } from "../../lib/protocol/chunking.ts";
import { msgpackCodec } from "../../lib/protocol/codec.ts";

const utf8 = (s: string) => new TextEncoder().encode(s).length;

/** A seeded generator, so a failure names the seed that reproduces it. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Characters whose JSON escaping or UTF-8 size differs from 1 byte. */
const HARD = ['"', "\\", "\n", "\t", "\u0000", "\u001f", "\u007f", "é", "€", "😀", "\u2028", "a"];

function hardText(seed: number, length: number): string {
  const r = rng(seed);
  let s = "";
  while (s.length < length) s += HARD[Math.floor(r() * HARD.length)];
  return s;
}

function assertChunks(frames: string[], original: string, limit: number, label: string): void {
  const start = JSON.parse(frames[0]);
  const end = JSON.parse(frames[frames.length - 1]);
  const data = frames.slice(1, -1).map((f) => JSON.parse(f));
  assert.equal(start.type, "chunked.start");
  assert.equal(end.type, "chunked.end");
  assert.equal(start.totalChunks, data.length, label);
  assert.equal(start.totalBytes, utf8(original), label);
  assert.deepEqual(data.map((d) => d.chunkIndex), data.map((_, i) => i), label);
  assert.equal(data.map((d) => d.data).join(""), original, `${label}: joined data differs`);
  for (const f of frames) {
    assert.ok(utf8(f) <= limit, `${label}: a chunk frame is ${utf8(f)} bytes, over ${limit}`);
  }
}

Deno.test("chunkText keeps every chunk frame within the limit for text that needs escaping", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const limit = MIN_CHUNK_BYTES + Math.floor(rng(seed)() * 4000);
    const frame = JSON.stringify({
      type: "message",
      topic: "t",
      seq: seed,
      data: hardText(seed, 20_000),
    });
    assertChunks(chunkText(frame, seed, limit), frame, limit, `seed ${seed}, limit ${limit}`);
  }
});

Deno.test("chunkText fills chunks: ASCII chunks reach the limit exactly", () => {
  const frame = JSON.stringify({ data: "x".repeat(10_000) });
  const frames = chunkText(frame, 1, 1000);
  const full = frames.slice(1, -2).map(utf8);
  assert.ok(full.length > 5);
  for (const n of full) assert.equal(n, 1000);
});

Deno.test("chunkText never splits a surrogate pair", () => {
  const frame = "😀".repeat(3000);
  for (const limit of [256, 257, 258, 259, 1001]) {
    const pieces = chunkText(frame, 3, limit).slice(1, -1).map((f) => JSON.parse(f).data as string);
    for (const p of pieces) {
      assert.ok(!/[\ud800-\udbff]$/.test(p) && !/^[\udc00-\udfff]/.test(p), `limit ${limit}`);
    }
    assert.equal(pieces.join(""), frame);
  }
});

Deno.test("chunkText escapes lone surrogates within the limit and keeps them", () => {
  const frame = "a\ud800b\udc00".repeat(500);
  assertChunks(chunkText(frame, 4, 300), frame, 300, "lone surrogates");
});

Deno.test("chunkText refuses a limit too small for the envelope", () => {
  assert.throws(() => chunkText("abc", 1, 100), RangeError);
});

Deno.test("chunkBinary keeps every MessagePack chunk within the limit and joins to the original", () => {
  const codec = msgpackCodec();
  const encode = (f: Record<string, unknown>) => codec.encode(f) as Uint8Array;
  for (const size of [1, 300, 65_535, 70_000, 424_000]) {
    const bytes = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
    for (const limit of [MIN_CHUNK_BYTES, 1000, 65_536]) {
      const frames = chunkBinary(bytes, 9, limit, encode);
      const data = frames.slice(1, -1).map((f) =>
        decode(f) as { chunkIndex: number; data: Uint8Array }
      );
      const start = decode(frames[0]) as { totalChunks: number; totalBytes: number };
      assert.equal(start.totalChunks, data.length);
      assert.equal(start.totalBytes, size);
      for (const f of frames) assert.ok(f.length <= limit, `${f.length} > ${limit}`);
      const joined = new Uint8Array(size);
      let off = 0;
      for (const d of data) {
        joined.set(d.data, off);
        off += d.data.length;
      }
      assert.equal(off, size);
      assert.deepEqual(joined, bytes);
    }
  }
});

Deno.test("chunkText counts escapes exactly: every chunk but the last is within 6 bytes of the limit", () => {
  const frame = hardText(77, 30_000);
  const sizes = chunkText(frame, 5, 2048).slice(1, -2).map(utf8);
  assert.ok(sizes.length > 10);
  for (const n of sizes) assert.ok(n > 2048 - 6 && n <= 2048, `chunk of ${n} bytes`);
});
