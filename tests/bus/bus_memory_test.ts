import assert from "node:assert/strict";
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import type { Envelope } from "../../lib/bus/bus.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";

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

const deepPatch = () => JSON.parse('{"a":'.repeat(20_000) + "1" + "}".repeat(20_000));

async function refusal(pending: Promise<unknown>): Promise<ProtocolError> {
  const err = await pending.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err}`);
  return err;
}

Deno.test("MemoryBus.publish refuses a patch it cannot apply before taking a seq", async () => {
  const bus = new MemoryBus();
  const ts = Date.now();
  const got: Envelope[] = [];
  bus.onMessage((env) => got.push(env));
  await bus.watch("t");
  await bus.publish([{ topic: "t", key: "k", data: { a: 1 }, ts }]);
  const err = await refusal(bus.publish([
    { topic: "t", key: "other", data: 1, ts },
    { topic: "t", key: "k", op: "patch", data: deepPatch(), ts },
  ]));
  assert.equal(err.code, "invalid_frame");
  assert.match(err.message, /^Nothing was published: the patch to key "k" of "t"/);
  await bus.publish([{ topic: "t", data: "after", ts }]);
  assert.deepEqual(got.map((e) => e.seq), [1, 2], "no seq was taken by the refused batch");
  const snap = await bus.snapshot("t");
  assert.deepEqual(snap, { seq: 2, state: { k: { a: 1 } } }, "nothing of the batch was applied");
  assert.deepEqual((await bus.history("t", 0, 10)).envelopes.map((e) => e.seq), [1, 2]);
});

Deno.test("MemoryBus.publish merges patches of one key in a batch in order", async () => {
  const bus = new MemoryBus();
  await bus.publish([
    { topic: "t", key: "k", op: "patch", data: { a: 1 }, ts: 1 },
    { topic: "t", key: "k", op: "patch", data: { b: 2 }, ts: 1 },
    { topic: "t", key: "j", data: { x: 1 }, ts: 1 },
    { topic: "t", key: "j", op: "patch", data: { x: null, y: 2 }, ts: 1 },
    { topic: "t", key: "gone", data: 1, ts: 1 },
    { topic: "t", key: "gone", op: "delete", data: null, ts: 1 },
    { topic: "t", key: "gone", op: "patch", data: { z: 1 }, ts: 1 },
  ]);
  assert.deepEqual((await bus.snapshot("t")).state, {
    k: { a: 1, b: 2 },
    j: { y: 2 },
    gone: { z: 1 },
  });
});

Deno.test("MemoryBus.publish counts the keys a batch creates against maxKeysPerTopic", async () => {
  const bus = new MemoryBus({ maxKeysPerTopic: 10 });
  const got: Envelope[] = [];
  bus.onMessage((env) => got.push(env));
  await bus.watch("t");
  const batch = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({ topic: "t", key: `k${from + i}`, data: i, ts: 1 }));
  // A new topic: before, its keys were not counted at all.
  const err = await refusal(bus.publish(batch(1000)));
  assert.equal(err.code, "limit_reached");
  assert.match(err.message, /^Nothing was published: .*past 10 keys \(--max-keys-per-topic\)/);
  assert.equal(bus.topicCount, 0, "not even the topic was created");
  assert.equal(got.length, 0);
  await bus.publish(batch(7));
  // 7 held + 4 new in one batch: refused whole, although each key alone would fit.
  await refusal(bus.publish([...batch(4, 7), { topic: "t", key: "k0", data: "x", ts: 1 }]));
  assert.equal((await bus.snapshot("t")).seq, 7);
  // Rewriting held keys and repeating a new one within the batch counts once.
  await bus.publish([...batch(7), ...batch(3, 7), ...batch(3, 7)]);
  assert.equal(Object.keys((await bus.snapshot("t")).state ?? {}).length, 10);
  // Deletes in the batch do not make room (counted conservatively) …
  await refusal(bus.publish([
    { topic: "t", key: "k0", op: "delete", data: null, ts: 1 },
    { topic: "t", key: "new", data: 1, ts: 1 },
  ]));
  // … but once done, they do.
  await bus.publish([{ topic: "t", key: "k0", op: "delete", data: null, ts: 1 }]);
  await bus.publish([{ topic: "t", key: "new", op: "patch", data: { a: 1 }, ts: 1 }]);
  assert.deepEqual(got.map((e) => e.seq), Array.from({ length: 22 }, (_, i) => i + 1));
});

Deno.test("MemoryBus.publish counts the topics a batch creates against maxTopics", async () => {
  const bus = new MemoryBus({ maxTopics: 3 });
  await bus.publish([{ topic: "a", data: 1, ts: 1 }]);
  const err = await refusal(bus.publish(
    ["b", "c", "d", "b"].map((topic) => ({ topic, data: 1, ts: 1 })),
  ));
  assert.equal(err.code, "limit_reached");
  assert.match(
    err.message,
    /holds 1 topics and this publish creates 3; the limit is 3 \(--max-topics\)/,
  );
  assert.equal(bus.topicCount, 1);
  await bus.publish(["b", "c", "b", "a"].map((topic) => ({ topic, data: 1, ts: 1 })));
  assert.equal(bus.topicCount, 3);
});
