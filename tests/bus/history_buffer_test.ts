import assert from "node:assert/strict";
import { HistoryBuffer } from "../../lib/bus/history_buffer.ts";

const gc = (globalThis as { gc?: () => void }).gc;

Deno.test("HistoryBuffer keeps contiguous seqs within its count, byte and age limits", () => {
  const h = new HistoryBuffer({ maxMessages: 10, maxBytes: 500, maxAgeMs: 1000 });
  const data = "x".repeat(38); // a 40-byte JSON string
  for (let seq = 1; seq <= 30; seq++) h.push({ topic: "t", seq, ts: seq * 10, data });
  assert.equal(h.length, 10);
  assert.equal(h.firstSeq, 21);
  assert.deepEqual(h.after(25, 3).map((e) => e.seq), [26, 27, 28]);
  h.trim(30 * 10 + 1000 - 45); // ages out 21–25 (ts 210–250)
  assert.equal(h.firstSeq, 26);
  assert.equal(h.bytes, 5 * 40);
});

Deno.test("HistoryBuffer.push keeps the bus's encoded JSON as is, and after() hands it back", () => {
  const h = new HistoryBuffer({ maxMessages: 10, maxBytes: 1000, maxAgeMs: 1000 });
  const json = new TextEncoder().encode('{"a":"é"}');
  h.push({ topic: "t", seq: 1, ts: 0, data: { a: "é" }, json });
  h.push({ topic: "t", seq: 2, ts: 0, data: undefined });
  assert.equal(h.bytes, json.length + 4);
  const [one, two] = h.after(0, 10);
  assert.equal(one.json, json);
  assert.deepEqual(one.data, { a: "é" });
  assert.equal(two.json, undefined);
  assert.equal(two.data, undefined);
});

Deno.test({
  name: "HistoryBuffer lets go of trimmed messages at once (run with --v8-flags=--expose-gc)",
  ignore: gc === undefined,
  async fn() {
    // Freed ArrayBuffers leave `external` once V8's sweeper has run: collect a few times.
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        gc!();
        await new Promise((r) => setTimeout(r, 20));
      }
      return Deno.memoryUsage().external;
    };
    const before = await settle();
    const h = new HistoryBuffer({ maxMessages: 1000, maxBytes: 1 << 20, maxAgeMs: 60_000 });
    const data = "x".repeat(100_000);
    // 900 × 100 KB pushed, 10 kept: fewer trimmed than any compaction threshold.
    for (let seq = 1; seq <= 900; seq++) h.push({ topic: "t", seq, ts: 0, data });
    const held = (await settle()) - before;
    assert.equal(h.length, 10);
    assert.ok(held < 4 << 20, `${(held / 1048576).toFixed(1)} MiB still held for 1 MiB of history`);
    assert.equal(h.after(895, 10).length, 5);
    assert.equal((h.after(899, 1)[0].data as string).length, 100_000, "data comes back whole");
  },
});

Deno.test("HistoryBuffer.after starts at the first seq after afterSeq even across a hole", () => {
  const h = new HistoryBuffer({ maxMessages: 100, maxBytes: 1e6, maxAgeMs: 1e9 });
  for (const seq of [1, 3, 4, 7]) h.push({ topic: "t", seq, ts: 0, data: seq });
  const seqs = (after: number, limit = 10) => h.after(after, limit).map((e) => e.seq);
  assert.deepEqual(seqs(0), [1, 3, 4, 7]);
  assert.deepEqual(seqs(1), [3, 4, 7]);
  assert.deepEqual(seqs(2), [3, 4, 7], "the index arithmetic alone would skip seq 3");
  assert.deepEqual(seqs(4, 1), [7]);
  assert.deepEqual(seqs(7), []);
});
