import assert from "node:assert/strict";
import {
  isChunkedType,
  parseChunkedFrame,
  parseClientFrame,
  parsePublishInput,
} from "../../lib/protocol/parse.ts";
import { MAX_DATA_DEPTH } from "../../lib/protocol/json_depth.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err}`);
    return err.code;
  }
  throw new Error("did not throw");
}

Deno.test("parseClientFrame accepts every client frame type", () => {
  assert.deepEqual(parseClientFrame("ping"), { type: "ping" });
  assert.deepEqual(parseClientFrame('{"type":"ping","id":3}'), { type: "ping", id: 3 });
  assert.deepEqual(parseClientFrame('{"type":"pong","id":4096}'), { type: "pong", id: 4096 });
  assert.deepEqual(
    parseClientFrame('{"type":"subscribe","topics":["a","b"],"since":{"a":4},"epoch":"e"}'),
    { type: "subscribe", topics: ["a", "b"], since: { a: 4 }, epoch: "e" },
  );
  assert.deepEqual(parseClientFrame('{"type":"unsubscribe","topics":["a"]}'), {
    type: "unsubscribe",
    topics: ["a"],
  });
  assert.deepEqual(
    parseClientFrame('{"type":"publish","topic":"t","key":"k","data":null,"id":"x"}'),
    { type: "publish", topic: "t", key: "k", data: null, id: "x" },
  );
});

Deno.test("parseClientFrame rejects bad frames with stable codes", () => {
  assert.equal(codeOf(() => parseClientFrame("{")), "bad_json");
  assert.equal(codeOf(() => parseClientFrame("[1]")), "invalid_frame");
  assert.equal(codeOf(() => parseClientFrame('{"type":"nope"}')), "unknown_type");
  assert.equal(codeOf(() => parseClientFrame('{"type":"subscribe","topics":[]}')), "invalid_frame");
  assert.equal(
    codeOf(() => parseClientFrame('{"type":"subscribe","topics":[""]}')),
    "invalid_topic",
  );
  assert.equal(
    codeOf(() => parseClientFrame('{"type":"subscribe","topics":["a"],"since":{"a":1.5}}')),
    "invalid_frame",
  );
});

Deno.test("parseClientFrame keeps the frame id on errors", () => {
  try {
    parseClientFrame('{"type":"publish","id":7,"topic":"bad topic","data":1}');
    assert.fail("should throw");
  } catch (err) {
    assert.ok(err instanceof ProtocolError);
    assert.equal(err.id, 7);
    assert.equal(err.code, "invalid_topic");
  }
});

Deno.test("parsePublishInput validates topic, data and key", () => {
  assert.deepEqual(parsePublishInput({ topic: "a.b:c-d/e_f", data: 0 }), {
    topic: "a.b:c-d/e_f",
    data: 0,
  });
  assert.equal(codeOf(() => parsePublishInput({ data: 1 })), "invalid_topic");
  assert.equal(codeOf(() => parsePublishInput({ topic: "t" })), "invalid_frame");
  assert.equal(codeOf(() => parsePublishInput({ topic: "t", data: 1, key: "" })), "invalid_frame");
  assert.equal(
    codeOf(() => parsePublishInput({ topic: "x".repeat(129), data: 1 })),
    "invalid_topic",
  );
  assert.equal(codeOf(() => parsePublishInput(null)), "invalid_frame");
});

Deno.test("parseChunkedFrame validates chunked frames of either side, text or bytes", () => {
  const bytes = new Uint8Array([1, 2]);
  assert.deepEqual(
    parseChunkedFrame({ type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 9 }),
    { type: "chunked.start", messageId: 1, totalChunks: 2, totalBytes: 9 },
  );
  assert.deepEqual(
    parseChunkedFrame({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: bytes }),
    { type: "chunked.data", messageId: 1, chunkIndex: 0, data: bytes },
  );
  assert.equal(
    codeOf(() => parseChunkedFrame({ type: "chunked.start", messageId: 1, totalChunks: 0 })),
    "invalid_frame",
  );
  assert.equal(
    codeOf(() => parseChunkedFrame({ type: "chunked.data", messageId: "x", chunkIndex: 0 })),
    "invalid_frame",
  );
  assert.equal(
    codeOf(() => parseChunkedFrame({ type: "chunked.data", messageId: 1, chunkIndex: 0, data: 5 })),
    "invalid_frame",
  );
  assert.equal(codeOf(() => parseChunkedFrame({ type: "message", messageId: 1 })), "invalid_frame");
  assert.ok(isChunkedType("chunked.end"));
  assert.ok(!isChunkedType("chunked"));
});

Deno.test("parsePublishInput refuses data and patches nested deeper than MAX_DATA_DEPTH, naming the limit", () => {
  const deep = JSON.parse('{"a":'.repeat(20_000) + "1" + "}".repeat(20_000));
  for (const item of [{ topic: "t", data: deep }, { topic: "t", key: "k", patch: deep }]) {
    assert.throws(
      () => parsePublishInput(item),
      (err: unknown) =>
        err instanceof ProtocolError && err.code === "invalid_frame" &&
        /nested more than 64 levels deep \(the limit is 64\)/.test(err.message),
    );
  }
  let atLimit: unknown = 1;
  for (let i = 0; i < MAX_DATA_DEPTH; i++) atLimit = [atLimit];
  assert.deepEqual(parsePublishInput({ topic: "t", data: atLimit }).data, atLimit);
  assert.throws(
    () => parseClientFrame(JSON.stringify({ type: "publish", topic: "t", key: "k", patch: deep })),
    (err: unknown) => err instanceof ProtocolError && err.code === "invalid_frame",
  );
});
