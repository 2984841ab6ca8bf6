import assert from "node:assert/strict";
import { encodeMessage } from "../../lib/protocol/encode.ts";
import { itemMaker, sessionUpdate, stampTree, tabTree } from "../../lib/load/payloads.ts";

function frameBytes(item: { topic: string; data: unknown; key?: string }): number {
  return encodeMessage({ ...item, seq: 12345, ts: Date.now() + 0.123 }).length;
}

Deno.test("itemMaker pads messages to about the asked frame size", () => {
  for (const bytes of [200, 1000, 16_000]) {
    const make = itemMaker({ payload: "pad", bytes, topic: "load-abc", publisher: 0 });
    const size = frameBytes(make(7));
    assert.ok(Math.abs(size - bytes) <= 20, `asked ${bytes}, got ${size}`);
    assert.equal((make(7).data as { kind: string }).kind, "pad");
    assert.equal(make(7).key, undefined);
  }
});

Deno.test("session updates are keyed by session, deterministic and dashboard-sized", () => {
  const make = itemMaker({ payload: "session", bytes: 0, topic: "t", publisher: 4 });
  const item = make(9);
  assert.equal(item.key, "s-4");
  const sizes = Array.from({ length: 50 }, (_, i) => frameBytes(make(i)));
  const avg = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  assert.ok(avg > 1200 && avg < 2500, `average ${avg} B`);
  const strip = (d: Record<string, unknown>) => ({ ...d, sentAt: 0 });
  assert.deepEqual(strip(sessionUpdate(4, 9)), strip(sessionUpdate(4, 9)));
  assert.notDeepEqual(strip(sessionUpdate(4, 9)), strip(sessionUpdate(4, 10)));
});

Deno.test("tabTree builds a state tree of the asked size, stamped per publish", () => {
  const tree = tabTree(424_000);
  const size = JSON.stringify(stampTree(tree, 3)).length;
  assert.ok(Math.abs(size - 424_000) < 424_000 * 0.02, `got ${size} B`);
  const stamped = stampTree(tree, 3);
  assert.equal(stamped.kind, "tree");
  assert.equal(stamped.i, 3);
  assert.equal(typeof stamped.sentAt, "number");
  assert.throws(() => tabTree(100), RangeError);
});
