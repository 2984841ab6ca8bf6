/** Delta updates over real sockets: merge patches and deletes, and the merged state. */
import assert from "node:assert/strict";
import { applyMergePatch } from "../../lib/protocol/merge_patch.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

Deno.test("patches and deletes reach subscribers as op frames; state and snapshots hold the merged whole", async () => {
  await withServer({}, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    await c.waitFor(() => c.ofType("subscribed").length === 1);
    const whole = { title: "a", panes: { p1: { cols: 80, rows: 24 } }, pinned: true };
    assert.equal((await publish(server, { topic: "tabs", key: "w1", data: whole })).status, 202);
    await publish(server, {
      topic: "tabs",
      key: "w1",
      patch: { panes: { p1: { cols: 120 } }, pinned: null },
    });
    await publish(server, { topic: "tabs", key: "w2", data: { title: "b" } });
    c.send({ type: "publish", topic: "tabs", key: "w2", delete: true, id: "d" });
    await c.waitFor(() => c.messages("tabs").length === 4, 5000, "4 messages");

    const [set, patch, , del] = c.messages("tabs");
    assert.equal(set.op, undefined);
    assert.equal(patch.op, "patch");
    assert.deepEqual(patch.data, { panes: { p1: { cols: 120 } }, pinned: null });
    assert.equal(del.op, "delete");
    assert.equal("data" in del, false);

    // How a client applies them (docs/protocol.md): set, merge, delete.
    const local: Record<string, unknown> = {};
    for (const m of c.messages("tabs")) {
      if (m.op === "delete") delete local[m.key!];
      else if (m.op === "patch") local[m.key!] = applyMergePatch(local[m.key!], m.data);
      else local[m.key!] = m.data;
    }
    const merged = { w1: { title: "a", panes: { p1: { cols: 120, rows: 24 } } } };
    assert.deepEqual(local, merged);

    const state = await (await fetch(`${server.url}/topics/tabs/state`)).json();
    assert.equal(state.seq, 4);
    assert.deepEqual(state.state, merged);

    const late = await TestClient.connect(wsUrl(server, "?topics=tabs"));
    await late.waitFor(() => late.ofType("subscribed").length === 1);
    assert.deepEqual(late.ofType("snapshot")[0].state, merged);
    assert.equal(late.ofType("snapshot")[0].seq, 4);
    await c.close();
    await late.close();
  });
});

Deno.test("a patch is smaller on the wire than the whole value it changes", async () => {
  await withServer({}, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=s"));
    await c.waitFor(() => c.ofType("subscribed").length === 1);
    const big = {
      rows: Array.from({ length: 500 }, (_, i) => ({ i, label: `row ${i}` })),
      status: "a",
    };
    await publish(server, { topic: "s", key: "k", data: big });
    await publish(server, { topic: "s", key: "k", patch: { status: "b" } });
    await c.waitFor(() => c.messages("s").length === 2);
    const sizes = c.messages("s").map((m) => JSON.stringify(m).length);
    assert.ok(sizes[1] * 50 < sizes[0], `patch ${sizes[1]} B vs whole ${sizes[0]} B`);
    await c.close();
  });
});

Deno.test("POST /publish refuses a patch without a key with 400", async () => {
  await withServer({}, async (server) => {
    const res = await publish(server, { topic: "s", patch: { a: 1 } });
    assert.equal(res.status, 400);
    assert.equal((res.body.error as { code: string }).code, "invalid_frame");
  });
});
