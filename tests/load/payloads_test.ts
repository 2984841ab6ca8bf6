import assert from "node:assert/strict";
import { encodeMessage } from "../../lib/protocol/encode.ts";
import { itemMaker, stampTree, tabTree } from "../../lib/load/payloads.ts";

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

Deno.test("itemMaker's session updates are keyed by session, stamped and dashboard-sized", () => {
  const make = itemMaker({ payload: "session", bytes: 0, topic: "t", publisher: 4 });
  const item = make(9);
  const data = item.data as {
    kind: string;
    i: number;
    sentAt: number;
    session: { sessionId: string };
  };
  assert.equal(item.key, "s-4");
  assert.deepEqual([data.kind, data.i, data.session.sessionId], ["session", 9, "s-4"]);
  assert.ok(Math.abs(data.sentAt - (performance.timeOrigin + performance.now())) < 1000);
  const sizes = Array.from({ length: 50 }, (_, i) => frameBytes(make(i)));
  const avg = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  assert.ok(avg > 1500 && avg < 3000, `average ${avg} B`);
});

Deno.test("stampTree marks a tab tree for the load tester without changing it", () => {
  const tree = tabTree(424_000);
  const stamped = stampTree(tree, 3);
  assert.deepEqual([stamped.kind, stamped.i, typeof stamped.sentAt], ["tree", 3, "number"]);
  assert.equal(stamped.tabs, tree.tabs);
  const size = JSON.stringify(stamped).length;
  assert.ok(Math.abs(size - 424_000) < 424_000 * 0.02, `got ${size} B`);
  assert.equal("kind" in tree, false);
});
