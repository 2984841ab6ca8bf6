import assert from "node:assert/strict";
import { parseClientFrame, parsePublishInput, publishInputOf } from "../../lib/protocol/parse.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  return "accepted";
};

Deno.test("parsePublishInput accepts data, a merge patch or a delete", () => {
  assert.deepEqual(parsePublishInput({ topic: "t", key: "k", patch: { a: null } }), {
    topic: "t",
    key: "k",
    op: "patch",
    data: { a: null },
  });
  assert.deepEqual(parsePublishInput({ topic: "t", key: "k", delete: true }), {
    topic: "t",
    key: "k",
    op: "delete",
    data: null,
  });
  assert.deepEqual(parsePublishInput({ topic: "t", data: 1 }), { topic: "t", data: 1 });
});

Deno.test("parsePublishInput refuses patches without a key, non-object patches and mixed forms", () => {
  assert.equal(code(() => parsePublishInput({ topic: "t", patch: { a: 1 } })), "invalid_frame");
  assert.equal(
    code(() => parsePublishInput({ topic: "t", key: "k", patch: [1] })),
    "invalid_frame",
  );
  assert.equal(code(() => parsePublishInput({ topic: "t", key: "k", patch: 5 })), "invalid_frame");
  assert.equal(code(() => parsePublishInput({ topic: "t", key: "k", delete: 1 })), "invalid_frame");
  assert.equal(
    code(() => parsePublishInput({ topic: "t", key: "k", data: 1, delete: true })),
    "invalid_frame",
  );
  assert.equal(
    code(() => parsePublishInput({ topic: "t", key: "k", data: 1, patch: {} })),
    "invalid_frame",
  );
});

Deno.test("parseClientFrame reads patch, delete and chunked frames", () => {
  const patch = parseClientFrame('{"type":"publish","topic":"t","key":"k","patch":{"a":1},"id":4}');
  assert.deepEqual(patch, { type: "publish", topic: "t", key: "k", patch: { a: 1 }, id: 4 });
  assert.deepEqual(publishInputOf(patch as never), {
    topic: "t",
    key: "k",
    op: "patch",
    data: { a: 1 },
  });
  assert.deepEqual(
    parseClientFrame('{"type":"chunked.start","messageId":1,"totalChunks":2,"totalBytes":9}'),
    {
      type: "chunked.start",
      messageId: 1,
      totalChunks: 2,
      totalBytes: 9,
    },
  );
  assert.equal(
    code(() => parseClientFrame('{"type":"chunked.data","messageId":1,"chunkIndex":0}')),
    "invalid_frame",
  );
  assert.equal(
    code(() =>
      parseClientFrame('{"type":"chunked.start","messageId":-1,"totalChunks":1,"totalBytes":1}')
    ),
    "invalid_frame",
  );
});
