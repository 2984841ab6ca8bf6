import assert from "node:assert/strict";
import { applyMergePatch } from "../../lib/protocol/merge_patch.ts";

Deno.test("applyMergePatch passes the RFC 7396 appendix A examples", () => {
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
    assert.deepEqual(
      applyMergePatch(target, patch),
      expected,
      `${JSON.stringify(target)} + ${JSON.stringify(patch)}`,
    );
  }
});

Deno.test("applyMergePatch leaves its inputs alone and shares unchanged branches", () => {
  const target = { status: "busy", meta: { host: "a", tags: ["x"] }, cpu: { now: 3 } };
  const frozen = structuredClone(target);
  const patch = { cpu: { now: 4 } };
  const result = applyMergePatch(target, patch) as typeof target;
  assert.deepEqual(target, frozen, "target unchanged");
  assert.deepEqual(patch, { cpu: { now: 4 } }, "patch unchanged");
  assert.equal(result.meta, target.meta, "unchanged branch is shared");
  assert.notEqual(result.cpu, target.cpu, "changed branch is new");
  assert.deepEqual(result, { status: "busy", meta: { host: "a", tags: ["x"] }, cpu: { now: 4 } });
});

Deno.test("applyMergePatch treats a __proto__ member as data, never as the prototype", () => {
  const patch = JSON.parse('{"__proto__": {"polluted": true}, "b": 1}');
  const result = applyMergePatch({ a: 1 }, patch) as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.deepEqual(Object.keys(result), ["a", "__proto__", "b"]);
});
