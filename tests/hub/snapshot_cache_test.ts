import assert from "node:assert/strict";
import { snapshotBytes, SnapshotCache } from "../../lib/hub/snapshot_cache.ts";
import { encodeSnapshot } from "../../lib/protocol/encode.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("snapshotBytes makes encodeSnapshot's text and marks where the state starts", () => {
  const state = { 'k"1': { a: ["é", null] }, k2: 3 };
  const s = snapshotBytes("tö", 7, state);
  assert.equal(text(s.frame), encodeSnapshot({ topic: "tö", seq: 7, state }));
  assert.deepEqual(JSON.parse(text(s.frame.subarray(s.stateStart, s.frame.length - 1))), state);
});

Deno.test("SnapshotCache shares one frame per topic and seq, and re-encodes when the seq moves", () => {
  const cache = new SnapshotCache({ maxBytes: 1 << 20 });
  assert.equal(cache.of("t", { seq: 1, state: undefined }), undefined);
  const a = cache.of("t", { seq: 2, state: { k: 1 } })!;
  assert.equal(cache.of("t", { seq: 2, state: { k: 1 } }), a);
  const b = cache.of("t", { seq: 3, state: { k: 2 } })!;
  assert.notEqual(b, a);
  assert.equal(cache.heldBytes, b.frame.length, "the older frame of the topic was let go");
  cache.clear();
  assert.equal(cache.heldBytes, 0);
  assert.notEqual(cache.of("t", { seq: 3, state: { k: 2 } }), b, "after clear it is made again");
});

Deno.test("SnapshotCache stays within its bytes, least recently used out, and never keeps an oversize frame", () => {
  const big = { v: "x".repeat(400) };
  const cache = new SnapshotCache({ maxBytes: 1000 });
  const a = cache.of("a", { seq: 1, state: big })!;
  cache.of("b", { seq: 1, state: big });
  assert.equal(cache.of("a", { seq: 1, state: big }), a, "a is used again: b is now the oldest");
  cache.of("c", { seq: 1, state: big });
  assert.ok(cache.heldBytes <= 1000);
  assert.equal(cache.of("a", { seq: 1, state: big }), a, "a stayed");
  const huge = cache.of("h", { seq: 1, state: { v: "y".repeat(5000) } })!;
  assert.ok(huge.frame.length > 1000);
  assert.notEqual(cache.of("h", { seq: 1, state: { v: "y".repeat(5000) } }), huge);
});
