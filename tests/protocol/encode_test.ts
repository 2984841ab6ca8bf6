import assert from "node:assert/strict";
import {
  encodeBatch,
  encodeBatchBytes,
  encodeGap,
  encodeMessage,
  encodeMessageBytes,
  MAX_GAP_BYTES,
  utf8Length,
} from "../../lib/protocol/encode.ts";

Deno.test("encodeMessage produces a frame that parses back to the same fields", () => {
  const text = encodeMessage({ topic: "t", seq: 3, key: "k", ts: 12.5, data: { a: [1, "é"] } });
  assert.deepEqual(JSON.parse(text), {
    type: "message",
    topic: "t",
    seq: 3,
    key: "k",
    ts: 12.5,
    data: { a: [1, "é"] },
  });
  assert.equal("key" in JSON.parse(encodeMessage({ topic: "t", seq: 1, ts: 1, data: 1 })), false);
});

Deno.test("encodeBatch joins encoded frames without re-serialising them", () => {
  const a = encodeMessage({ topic: "t", seq: 1, ts: 1, data: "x" });
  const g = encodeGap("t", 2, 4, "dropped");
  const batch = JSON.parse(encodeBatch([a, g]));
  assert.equal(batch.type, "batch");
  assert.deepEqual(batch.messages, [JSON.parse(a), JSON.parse(g)]);
});

Deno.test("utf8Length matches TextEncoder for every kind of character", () => {
  const samples = ["", "ascii", "é", "€", "😀", "a😀b€c", "\ud800", "x\udc00y", "日本語テキスト"];
  for (const s of samples) {
    assert.equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
  }
});

Deno.test("MAX_GAP_BYTES bounds the largest gap frame", () => {
  const longest = encodeGap(
    "t".repeat(128),
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
    "history_exceeded",
  );
  assert.ok(utf8Length(longest) <= MAX_GAP_BYTES, `${utf8Length(longest)} bytes`);
});

Deno.test("encodeMessage marks patches and deletes with op, and a delete carries no data", () => {
  const patch = JSON.parse(
    encodeMessage({ topic: "t", seq: 2, key: "k", ts: 1, op: "patch", data: { a: null } }),
  );
  assert.deepEqual(patch, {
    type: "message",
    topic: "t",
    seq: 2,
    key: "k",
    ts: 1,
    op: "patch",
    data: { a: null },
  });
  const del = JSON.parse(
    encodeMessage({ topic: "t", seq: 3, key: "k", ts: 1, op: "delete", data: null }),
  );
  assert.deepEqual(del, { type: "message", topic: "t", seq: 3, key: "k", ts: 1, op: "delete" });
});

Deno.test("encodeMessageBytes makes the bytes of encodeMessage's text from the data's JSON", () => {
  const utf8 = new TextEncoder();
  const cases = [
    { topic: "t", seq: 1, ts: 1.5, data: { a: 1 } },
    { topic: "tö/😀", seq: 2, ts: 0, key: 'k"ey', data: ["é", null] },
    { topic: "t", seq: 3, ts: 0, key: "k", op: "patch" as const, data: { b: { c: 2 } } },
    { topic: "t", seq: 4, ts: 0, key: "k", op: "delete" as const, data: null },
    { topic: "t", seq: 5, ts: 0, data: undefined },
  ];
  for (const m of cases) {
    const text = JSON.stringify(m.data);
    const bytes = encodeMessageBytes(m, text === undefined ? undefined : utf8.encode(text));
    assert.equal(new TextDecoder().decode(bytes), encodeMessage(m), `seq ${m.seq}`);
  }
});

Deno.test("encodeBatchBytes joins text and byte frames into encodeBatch's text", () => {
  const frames = ['{"type":"gap"}', '{"type":"message","data":"é"}'];
  const mixed = [frames[0], new TextEncoder().encode(frames[1])];
  assert.equal(new TextDecoder().decode(encodeBatchBytes(mixed)), encodeBatch(frames));
  assert.equal(new TextDecoder().decode(encodeBatchBytes([])), encodeBatch([]));
});
