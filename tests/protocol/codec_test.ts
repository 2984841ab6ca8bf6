import assert from "node:assert/strict";
import { decode } from "@msgpack/msgpack";
import { createCodec, decodeFrame, jsonCodec, msgpackCodec } from "../../lib/protocol/codec.ts";
import type { MessageFields } from "../../lib/protocol/encode.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";

const message: MessageFields = {
  topic: "sessions",
  seq: 42,
  key: "s-17",
  ts: 1745000000000.125,
  data: { status: "busy", cpu: 0.42, tags: ["a", "é"], nested: { n: null, big: 2 ** 40 } },
};

Deno.test("msgpackCodec encodes the same frame objects as JSON", () => {
  const mp = msgpackCodec();
  const json = jsonCodec();
  for (const m of [message, { ...message, key: undefined }, { ...message, op: "patch" as const }]) {
    assert.deepEqual(
      decode(mp.encodeMessage(m) as Uint8Array),
      JSON.parse(json.encodeMessage(m) as string),
    );
  }
  const del = decode(mp.encodeMessage({ ...message, op: "delete" }) as Uint8Array);
  assert.equal("data" in (del as object), false);
});

Deno.test("msgpackCodec joins encoded frames into a batch that decodes like the JSON one", () => {
  const mp = msgpackCodec();
  const json = jsonCodec();
  for (const n of [1, 2, 15, 16, 300]) {
    const ms = Array.from({ length: n }, (_, i) => ({ ...message, seq: i + 1 }));
    const mpParts = [mp.encodeGap("t", 1, 3, "dropped"), ...ms.map((m) => mp.encodeMessage(m))];
    const jsonParts = [
      json.encodeGap("t", 1, 3, "dropped"),
      ...ms.map((m) => json.encodeMessage(m)),
    ];
    const batch = mp.encodeBatch(mpParts) as Uint8Array;
    assert.deepEqual(decode(batch), JSON.parse(json.encodeBatch(jsonParts) as string));
    const sum = mpParts.reduce((a, p) => a + p.length, 0);
    assert.ok(batch.length <= mp.batchOverhead + sum, `batch of ${n} over its bound`);
  }
});

Deno.test("decodeFrame reads JSON text and MessagePack bytes, and names bad input", () => {
  assert.deepEqual(decodeFrame('{"type":"ping"}'), { type: "ping" });
  assert.deepEqual(decodeFrame(msgpackCodec().encode({ type: "ping", id: 3 }) as Uint8Array), {
    type: "ping",
    id: 3,
  });
  assert.throws(
    () => decodeFrame("{nope"),
    (e) => e instanceof ProtocolError && e.code === "bad_json",
  );
  assert.throws(
    () => decodeFrame(new Uint8Array([0xc1])),
    (e) => e instanceof ProtocolError && e.code === "bad_json",
  );
});

Deno.test("a codec's decode reads text as JSON and bytes, ArrayBuffer too, as MessagePack", () => {
  const frame = { type: "gap", topic: "t", fromSeq: 1, toSeq: 3, reason: "dropped" };
  for (const codec of [jsonCodec(), msgpackCodec()]) {
    assert.deepEqual(codec.decode(JSON.stringify(frame)), frame, `${codec.name}: text`);
  }
  const bytes = msgpackCodec().encode(frame) as Uint8Array;
  assert.deepEqual(msgpackCodec().decode(bytes), frame);
  assert.deepEqual(msgpackCodec().decode(bytes.slice().buffer), frame, "from an ArrayBuffer");
});

Deno.test("createCodec makes the codec of a name and refuses unknown names with TypeError", () => {
  assert.equal(createCodec("json").subprotocol, "floodgate.v1.json");
  assert.equal(createCodec("msgpack").subprotocol, "floodgate.v1.msgpack");
  assert.throws(() => createCodec("xml" as "json"), TypeError);
});
