import assert from "node:assert/strict";
import type { Envelope } from "../../lib/bus/bus.ts";
import { HistoryBuffer } from "../../lib/bus/history_buffer.ts";

const gc = (globalThis as { gc?: () => void }).gc;

Deno.test("HistoryBuffer keeps contiguous seqs within its count, byte and age limits", () => {
  const h = new HistoryBuffer({ maxMessages: 10, maxBytes: 500, maxAgeMs: 1000 });
  for (let seq = 1; seq <= 30; seq++) h.push({ topic: "t", seq, ts: seq * 10, data: seq }, 40);
  assert.equal(h.length, 10);
  assert.equal(h.firstSeq, 21);
  assert.deepEqual(h.after(25, 3).map((e) => e.seq), [26, 27, 28]);
  h.trim(30 * 10 + 1000 - 45); // ages out 21–25 (ts 210–250)
  assert.equal(h.firstSeq, 26);
  assert.equal(h.bytes, 5 * 40);
});

Deno.test({
  name: "HistoryBuffer lets go of trimmed messages at once (run with --v8-flags=--expose-gc)",
  ignore: gc === undefined,
  async fn() {
    const h = new HistoryBuffer({ maxMessages: 1000, maxBytes: 100_000, maxAgeMs: 60_000 });
    const refs: WeakRef<Envelope>[] = [];
    for (let seq = 1; seq <= 900; seq++) {
      const env: Envelope = { topic: "t", seq, ts: 0, data: new Uint8Array(10_000) };
      refs.push(new WeakRef(env));
      h.push(env, 10_000); // 10 fit in 100 KB: 890 trimmed, fewer than any compaction threshold
    }
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.equal(h.length, 10);
    assert.ok(alive <= 11, `${alive} trimmed envelopes still referenced`);
  },
});
