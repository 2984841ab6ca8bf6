import assert from "node:assert/strict";
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import type { Envelope } from "../../lib/bus/bus.ts";

Deno.test("MemoryBus merges patches into the key's state and removes deleted keys", async () => {
  const bus = new MemoryBus();
  const got: Envelope[] = [];
  bus.onMessage((env) => got.push(env));
  bus.watch("tabs");
  const ts = 1;
  await bus.publish([
    { topic: "tabs", key: "w1", data: { title: "a", panes: { p1: { cols: 80 } } }, ts },
    { topic: "tabs", key: "w1", op: "patch", data: { panes: { p1: { cols: 120 }, p2: {} } }, ts },
    { topic: "tabs", key: "w2", op: "patch", data: { title: "new" }, ts },
    { topic: "tabs", key: "w3", data: 1, ts },
    { topic: "tabs", key: "w3", op: "delete", data: null, ts },
  ]);
  const snap = await bus.snapshot("tabs");
  assert.equal(snap.seq, 5);
  assert.deepEqual(snap.state, {
    w1: { title: "a", panes: { p1: { cols: 120 }, p2: {} } },
    w2: { title: "new" },
  });
  assert.deepEqual(got[1].data, { panes: { p1: { cols: 120 }, p2: {} } }, "delivered as the patch");
  assert.equal(got[1].op, "patch");
  assert.equal(got[4].op, "delete");
});

Deno.test("MemoryBus snapshots keep the state of their seq when later patches arrive", async () => {
  const bus = new MemoryBus();
  await bus.publish([{ topic: "t", key: "k", data: { n: 1, deep: { a: 1 } }, ts: 1 }]);
  const before = await bus.snapshot("t");
  await bus.publish([{ topic: "t", key: "k", op: "patch", data: { n: 2, deep: { a: 2 } }, ts: 2 }]);
  assert.deepEqual(before.state, { k: { n: 1, deep: { a: 1 } } });
  assert.deepEqual((await bus.snapshot("t")).state, { k: { n: 2, deep: { a: 2 } } });
});
