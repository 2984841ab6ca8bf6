/** Publish → delivery, snapshots and subscriptions, over real sockets. */
import assert from "node:assert/strict";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

Deno.test("POST /publish reaches every subscriber once, in seq order, with a sub-ms ts", async () => {
  await withServer({}, async (server) => {
    const clients = await Promise.all(
      [1, 2, 3].map(() => TestClient.connect(wsUrl(server, "?topics=feed"))),
    );
    for (let i = 1; i <= 40; i++) await publish(server, { topic: "feed", data: { i } });
    const batch = Array.from({ length: 60 }, (_, j) => ({ topic: "feed", data: { i: 41 + j } }));
    const res = await publish(server, batch);
    assert.deepEqual(res, { status: 202, body: { accepted: 60, seq: 100 } });
    for (const c of clients) {
      await c.waitFor(() => c.messages("feed").length === 100, 5000, "100 messages");
      const msgs = c.messages("feed");
      assert.deepEqual(msgs.map((m) => m.seq), Array.from({ length: 100 }, (_, i) => i + 1));
      assert.deepEqual(msgs.map((m) => (m.data as { i: number }).i), msgs.map((m) => m.seq));
      assert.ok(msgs.some((m) => !Number.isInteger(m.ts)), "ts should carry sub-ms precision");
      assert.equal(c.gaps().length, 0);
      await c.close();
    }
  });
});

Deno.test("several publishes in one turn reach a client as one batch frame", async () => {
  await withServer({}, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=feed"));
    const before = c.rawFrames;
    await publish(server, Array.from({ length: 20 }, (_, i) => ({ topic: "feed", data: i })));
    await c.waitFor(() => c.messages().length === 20, 5000, "20 messages");
    assert.equal(
      c.rawFrames - before,
      1,
      "20 messages published together should arrive as 1 frame",
    );
    await c.close();
  });
});

Deno.test("subscribe sends a snapshot of the keyed state, then only newer messages", async () => {
  await withServer({}, async (server) => {
    await publish(server, [
      { topic: "sessions", key: "s1", data: { status: "idle" } },
      { topic: "sessions", key: "s2", data: { status: "busy" } },
      { topic: "sessions", key: "s1", data: { status: "done" } },
    ]);
    const c = await TestClient.connect(wsUrl(server));
    c.send({ type: "subscribe", topics: ["sessions"] });
    await c.waitFor(() => c.ofType("snapshot").length === 1, 5000, "snapshot");
    const [snap] = c.ofType("snapshot");
    assert.deepEqual(snap, {
      type: "snapshot",
      topic: "sessions",
      seq: 3,
      state: { s1: { status: "done" }, s2: { status: "busy" } },
    });
    await publish(server, { topic: "sessions", key: "s3", data: { status: "new" } });
    await c.waitFor(() => c.messages().length === 1, 5000, "live message");
    assert.equal(c.messages()[0].seq, 4);
    assert.equal(c.messages()[0].key, "s3");
    const state = await (await fetch(`${server.url}/topics/sessions/state`)).json();
    assert.equal(state.seq, 4);
    assert.deepEqual(Object.keys(state.state).sort(), ["s1", "s2", "s3"]);
    await c.close();
  });
});

Deno.test("a topic without keyed state sends no snapshot", async () => {
  await withServer({}, async (server) => {
    await publish(server, { topic: "log", data: "line" });
    const c = await TestClient.connect(wsUrl(server, "?topics=log"));
    await publish(server, { topic: "log", data: "line 2" });
    await c.waitFor(() => c.messages().length === 1, 5000, "message");
    assert.equal(c.ofType("snapshot").length, 0);
    assert.equal(c.messages()[0].seq, 2);
    await c.close();
  });
});

Deno.test("unsubscribe stops delivery of that topic only", async () => {
  await withServer({}, async (server) => {
    const c = await TestClient.connect(wsUrl(server, "?topics=a,b"));
    c.send({ type: "unsubscribe", topics: ["a"] });
    c.send("ping");
    await c.waitFor(() => c.ofType("pong").length === 1, 5000, "pong");
    await publish(server, [{ topic: "a", data: 1 }, { topic: "b", data: 2 }]);
    await c.waitFor(() => c.messages("b").length === 1, 5000, "b");
    assert.equal(c.messages("a").length, 0);
    await c.close();
  });
});

Deno.test("publish over WebSocket with an id is acked with its seq and delivered", async () => {
  await withServer({}, async (server) => {
    const sub = await TestClient.connect(wsUrl(server, "?topics=chat"));
    const pub = await TestClient.connect(wsUrl(server));
    pub.send({ type: "publish", topic: "chat", data: "hi", key: "u1", id: "p1" });
    await pub.waitFor(() => pub.ofType("ack").length === 1, 5000, "ack");
    assert.deepEqual(pub.ofType("ack")[0], { type: "ack", id: "p1", seq: 1 });
    await sub.waitFor(() => sub.messages().length === 1, 5000, "message");
    assert.equal(sub.messages()[0].data, "hi");
    await sub.close();
    await pub.close();
  });
});

Deno.test("welcome carries clientId, epoch and heartbeatMs", async () => {
  await withServer({ heartbeatMs: 7000 }, async (server) => {
    const c = await TestClient.connect(wsUrl(server));
    const [welcome] = c.ofType("welcome");
    assert.match(welcome.clientId, /^c/);
    assert.equal(typeof welcome.epoch, "string");
    assert.equal(welcome.heartbeatMs, 7000);
    const health = await (await fetch(`${server.url}/healthz`)).json();
    assert.equal(health.epoch, welcome.epoch);
    await c.close();
  });
});
