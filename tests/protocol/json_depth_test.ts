import assert from "node:assert/strict";
import { MAX_DATA_DEPTH, nestedDeeperThan } from "../../lib/protocol/json_depth.ts";

/** `levels` nested objects around `1`, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

Deno.test("nestedDeeperThan counts nested objects and arrays as levels", () => {
  assert.equal(nestedDeeperThan(1, 0), false);
  assert.equal(nestedDeeperThan("text", 0), false);
  assert.equal(nestedDeeperThan(null, 0), false);
  assert.equal(nestedDeeperThan({}, 0), true);
  assert.equal(nestedDeeperThan({}, 1), false);
  assert.equal(nestedDeeperThan({ a: [1] }, 2), false);
  assert.equal(nestedDeeperThan({ a: [[1]] }, 2), true);
  assert.equal(nestedDeeperThan([1, [2, { b: 3 }]], 3), false);
  assert.equal(nestedDeeperThan([1, [2, { b: {} }]], 3), true);
});

Deno.test("nestedDeeperThan treats byte arrays as values, not containers", () => {
  assert.equal(nestedDeeperThan({ bin: new Uint8Array(100_000) }, 1), false);
});

Deno.test("nestedDeeperThan stops at the limit on a value nested 20,000 levels deep", () => {
  const deep = JSON.parse('{"a":'.repeat(20_000) + "1" + "}".repeat(20_000));
  assert.equal(nestedDeeperThan(deep, MAX_DATA_DEPTH), true);
  assert.equal(nestedDeeperThan(nested(MAX_DATA_DEPTH), MAX_DATA_DEPTH), false);
  assert.equal(nestedDeeperThan(nested(MAX_DATA_DEPTH + 1), MAX_DATA_DEPTH), true);
});
