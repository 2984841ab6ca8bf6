import assert from "node:assert/strict";
import { applyMergePatch } from "../../lib/protocol/merge_patch.ts";
import { MAX_DATA_DEPTH } from "../../lib/protocol/json_depth.ts";

Deno.test("applyMergePatch passes the examples of RFC 7396 appendix A", () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) {
    assert.deepEqual(applyMergePatch(target, patch), expected, JSON.stringify([target, patch]));
  }
});

Deno.test("applyMergePatch leaves its inputs unchanged and shares untouched members", () => {
  const big = { rows: Array.from({ length: 100 }, (_, i) => i) };
  const target = { a: { b: 1, c: 2 }, big };
  const copy = structuredClone(target);
  const patch = { a: { b: null, d: 3 } };
  const out = applyMergePatch(target, patch) as typeof target & { a: { d: number } };
  assert.deepEqual(target, copy, "the target was changed");
  assert.deepEqual(patch, { a: { b: null, d: 3 } }, "the patch was changed");
  assert.deepEqual(out, { a: { c: 2, d: 3 }, big });
  assert.equal(out.big, big, "an untouched member is shared, not copied");
});

Deno.test("applyMergePatch treats a __proto__ member as data, never as the prototype", () => {
  const patch = JSON.parse('{"__proto__": {"polluted": true}, "after": 1}');
  const out = applyMergePatch({}, patch) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(out.after, 1, "members after __proto__ are applied too");
  assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":true},"after":1}');
});

Deno.test("applyMergePatch refuses a patch nested deeper than MAX_DATA_DEPTH with a RangeError naming the limit", () => {
  const deep = JSON.parse('{"a":'.repeat(20_000) + "1" + "}".repeat(20_000));
  assert.throws(() => applyMergePatch({ a: { b: 1 } }, deep), {
    name: "RangeError",
    message: "The merge patch is nested more than 64 levels deep",
  });
  let atLimit: unknown = 1;
  for (let i = 0; i < MAX_DATA_DEPTH; i++) atLimit = { a: atLimit };
  assert.deepEqual(applyMergePatch(undefined, atLimit), atLimit);
});
