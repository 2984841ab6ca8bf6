import assert from "node:assert/strict";
import { KeyedState, type StateChange } from "../../lib/client/keyed_state.ts";

function recorder(store: KeyedState): StateChange[] {
  const changes: StateChange[] = [];
  store.onChange((c) => changes.push(c));
  return changes;
}

Deno.test("KeyedState sets, merge-patches and deletes keys, reporting each change", () => {
  const store = new KeyedState("sessions");
  const changes = recorder(store);
  store.update({ key: "s-1", seq: 1, ts: 10, data: { status: "busy", cpu: 3, host: "a" } });
  const before = store.get("s-1");
  store.update({ key: "s-1", seq: 2, ts: 11, patch: true, data: { cpu: null, status: "idle" } });
  store.update({ key: "s-2", seq: 3, data: 7 });
  store.update({ key: "s-2", seq: 4, delete: true });
  store.update({ key: "absent", seq: 5, delete: true });
  assert.deepEqual(store.toObject(), { "s-1": { status: "idle", host: "a" } });
  assert.deepEqual(before, { status: "busy", cpu: 3, host: "a" }, "old value not mutated");
  assert.deepEqual(store.meta("s-1"), { seq: 2, ts: 11 });
  assert.equal(store.seq, 5);
  assert.deepEqual(
    changes.map((c) => [c.cause, c.changed, c.deleted, c.seq]),
    [
      ["message", ["s-1"], [], 1],
      ["message", ["s-1"], [], 2],
      ["message", ["s-2"], [], 3],
      ["message", [], ["s-2"], 4],
    ],
    "deleting an absent key is no change",
  );
});

Deno.test("KeyedState.replace reports only keys that differ and clears stale", () => {
  const store = new KeyedState("sessions");
  store.replace({ a: { v: 1 }, b: { v: 2 }, c: 3 }, 10, "snapshot");
  const keptA = store.get("a");
  store.markStale();
  assert.equal(store.stale, true);
  const changes = recorder(store);
  store.replace({ a: { v: 1 }, b: { v: 20 }, d: 4 }, 15, "refetch");
  assert.equal(store.stale, false);
  assert.equal(store.get("a"), keptA, "an equal value keeps its old reference");
  assert.deepEqual(changes, [{
    topic: "sessions",
    seq: 15,
    cause: "refetch",
    changed: ["b", "d"],
    deleted: ["c"],
    replaced: true,
  }]);
  assert.deepEqual([...store.keys()], ["a", "b", "d"]);
});

Deno.test("KeyedState.reset empties the store", () => {
  const store = new KeyedState("t");
  store.update({ key: "k", seq: 9, data: 1 });
  const changes = recorder(store);
  store.reset();
  assert.equal(store.size, 0);
  assert.equal(store.seq, 0);
  assert.deepEqual(changes[0].deleted, ["k"]);
  assert.equal(changes[0].cause, "reset");
});
