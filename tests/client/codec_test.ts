import assert from "node:assert/strict";
import { codecByName, codecForProtocol, jsonCodec, msgpackCodec } from "../../lib/client/codec.ts";

const frame = {
  type: "batch",
  messages: [
    {
      type: "message",
      topic: "sessions",
      seq: 41,
      key: "s-17",
      ts: 1732550000123.25,
      data: { status: "busy", cpu: 0.5, tags: ["a", "é"] },
    },
    { type: "gap", topic: "sessions", fromSeq: 42, toSeq: 44, reason: "dropped" },
  ],
};

Deno.test("jsonCodec round-trips frames as text and reads UTF-8 bytes too", () => {
  const text = jsonCodec.encode(frame);
  assert.equal(typeof text, "string");
  assert.deepEqual(jsonCodec.decode(text), frame);
  const bytes = new TextEncoder().encode(text as string);
  assert.deepEqual(jsonCodec.decode(bytes.buffer), frame);
  assert.throws(() => jsonCodec.decode("{nope"), SyntaxError);
});

Deno.test("msgpackCodec round-trips frames as bytes, smaller than JSON", () => {
  const bytes = msgpackCodec.encode(frame);
  assert.ok(bytes instanceof Uint8Array);
  assert.ok(bytes.byteLength < (jsonCodec.encode(frame) as string).length);
  assert.deepEqual(msgpackCodec.decode(bytes), frame);
  assert.deepEqual(msgpackCodec.decode(bytes.slice().buffer), frame, "from an ArrayBuffer");
});

Deno.test("msgpackCodec reads text frames as JSON and reports bad bytes as SyntaxError", () => {
  assert.deepEqual(msgpackCodec.decode('{"type":"ping","id":3}'), { type: "ping", id: 3 });
  assert.throws(() => msgpackCodec.decode(new Uint8Array([0xc1])), SyntaxError);
});

Deno.test("codecForProtocol picks MessagePack only when the server selected it", () => {
  assert.equal(codecForProtocol("floodgate.v1.msgpack"), msgpackCodec);
  assert.equal(codecForProtocol("floodgate.v1.json"), jsonCodec);
  assert.equal(codecForProtocol(""), jsonCodec);
  assert.equal(codecByName("msgpack"), msgpackCodec);
  assert.throws(() => codecByName("xml" as "json"), TypeError);
});
