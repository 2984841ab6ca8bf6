import assert from "node:assert/strict";
import { mergeForPublish } from "../../lib/bus/merge_state.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";

Deno.test("mergeForPublish merges the patch into the current value", () => {
  const req = { topic: "t", key: "k", op: "patch" as const, data: { b: 2, a: null }, ts: 0 };
  assert.deepEqual(mergeForPublish(req, { a: 1, c: 3 }), { b: 2, c: 3 });
  assert.deepEqual(mergeForPublish(req, undefined), { b: 2 });
});

Deno.test("mergeForPublish refuses a patch that cannot be applied with invalid_frame", () => {
  const data = JSON.parse('{"a":'.repeat(20_000) + "1" + "}".repeat(20_000));
  assert.throws(
    () => mergeForPublish({ topic: "t", key: "k", op: "patch", data, ts: 0 }, {}),
    (err: unknown) =>
      err instanceof ProtocolError && err.code === "invalid_frame" &&
      /^Nothing was published: the patch to key "k" of "t" could not be applied \(The merge patch is nested more than 64 levels deep\)$/
        .test(err.message),
  );
});
