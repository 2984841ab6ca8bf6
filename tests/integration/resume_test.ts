/** History and resume over real sockets: exact replay, gaps past history, epoch changes, no seams. */
import assert from "node:assert/strict";
import { startServer } from "../../lib/server.ts";
import { publish, testSettings, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

function seqsOf(c: TestClient, topic: string): number[] {
  return c.messages(topic).map((m) => m.seq);
}

Deno.test("resume after a forced disconnect receives exactly the missed messages", async () => {
  await withServer({ heartbeatMs: 100, heartbeatTimeoutMs: 200 }, async (server) => {
    // A client that stops answering pings is disconnected by the server.
    const first = await TestClient.connect(wsUrl(server, "?topics=term"), { answerPings: false });
    await first.waitFor(() => first.ofType("subscribed").length === 1, 5000, "subscribed");
    const epoch = first.ofType("welcome")[0].epoch;
    for (let i = 1; i <= 10; i++) await publish(server, { topic: "term", data: `line ${i}` });
    await first.waitFor(() => first.messages().length === 10, 5000, "10 messages");
    assert.equal((await first.closed).code, 4009);
    const last = seqsOf(first, "term").at(-1)!;

    for (let i = 11; i <= 30; i++) await publish(server, { topic: "term", data: `line ${i}` });
    const again = await TestClient.connect(wsUrl(server));
    again.send({ type: "subscribe", topics: ["term"], since: { term: last }, epoch });
    await again.waitFor(() => again.messages().length === 20, 5000, "20 replayed messages");
    await publish(server, { topic: "term", data: "line 31" });
    await again.waitFor(() => again.messages().length === 21, 5000, "the live message");

    assert.deepEqual(again.ofType("subscribed"), [{ type: "subscribed", topic: "term", seq: 10 }]);
    assert.deepEqual(seqsOf(again, "term"), Array.from({ length: 21 }, (_, i) => 11 + i));
    assert.deepEqual(
      again.messages().map((m) => m.data),
      Array.from({ length: 21 }, (_, i) => `line ${11 + i}`),
    );
    assert.equal(again.gaps().length, 0);
    assert.equal(again.ofType("snapshot").length, 0, "nothing was lost, so no snapshot is needed");
    await again.close();
  });
});

Deno.test("resume beyond the history gets a gap and a fresh snapshot", async () => {
  await withServer({ historySize: 5 }, async (server) => {
    for (let i = 1; i <= 20; i++) await publish(server, { topic: "s", key: `k${i % 3}`, data: i });
    const c = await TestClient.connect(wsUrl(server));
    c.send({ type: "subscribe", topics: ["s"], since: { s: 2 } });
    await c.waitFor(() => c.ofType("subscribed").length === 1, 5000, "subscribed");
    assert.deepEqual(c.gaps(), [{
      type: "gap",
      topic: "s",
      fromSeq: 3,
      toSeq: 20,
      reason: "history_exceeded",
    }]);
    assert.deepEqual(c.ofType("snapshot"), [
      { type: "snapshot", topic: "s", seq: 20, state: { k0: 18, k1: 19, k2: 20 } },
    ]);
    assert.deepEqual(c.ofType("subscribed"), [{ type: "subscribed", topic: "s", seq: 20 }]);
    const order = c.frames.map((f) => f.type).filter((t) => t !== "welcome");
    assert.deepEqual(order, ["gap", "snapshot", "subscribed"]);
    await c.close();
  });
});

Deno.test("resume within the history limit replays from history, not a snapshot", async () => {
  await withServer({ historySize: 5 }, async (server) => {
    for (let i = 1; i <= 20; i++) await publish(server, { topic: "s", key: "k", data: i });
    const c = await TestClient.connect(wsUrl(server));
    c.send({ type: "subscribe", topics: ["s"], since: { s: 15 } });
    await c.waitFor(() => c.messages().length === 5, 5000, "5 replayed messages");
    assert.deepEqual(seqsOf(c, "s"), [16, 17, 18, 19, 20]);
    assert.equal(c.gaps().length + c.ofType("snapshot").length, 0);
    await c.close();
  });
});

Deno.test("resume across a server restart gets the epoch change, a gap and a snapshot", async () => {
  const first = await startServer(testSettings());
  const port = first.port;
  const c1 = await TestClient.connect(wsUrl(first, "?topics=s"));
  for (let i = 1; i <= 5; i++) await publish(first, { topic: "s", key: `k${i}`, data: i });
  await c1.waitFor(() => c1.messages().length === 5, 5000, "5 messages");
  const oldEpoch = c1.ofType("welcome")[0].epoch;
  await first.shutdown();
  assert.equal((await c1.closed).code, 1001);

  const second = await startServer(testSettings({ port }));
  try {
    for (let i = 1; i <= 3; i++) await publish(second, { topic: "s", key: "new", data: i });
    const c2 = await TestClient.connect(wsUrl(second));
    const newEpoch = c2.ofType("welcome")[0].epoch;
    assert.notEqual(newEpoch, oldEpoch);
    c2.send({ type: "subscribe", topics: ["s"], since: { s: 5 }, epoch: oldEpoch });
    await c2.waitFor(() => c2.ofType("subscribed").length === 1, 5000, "subscribed");
    assert.deepEqual(c2.gaps(), [{
      type: "gap",
      topic: "s",
      fromSeq: 1,
      toSeq: 3,
      reason: "epoch_changed",
    }]);
    assert.deepEqual(c2.ofType("snapshot")[0].state, { new: 3 });
    assert.equal(c2.ofType("subscribed")[0].seq, 3);
    assert.equal(c2.messages().length, 0, "no message of the old epoch's seqs is replayed");
    await c2.close();
  } finally {
    await second.shutdown();
  }
});

Deno.test("publish during a long replay is neither lost nor doubled", async () => {
  await withServer({ historySize: 20_000, historyBytes: 64 << 20 }, async (server) => {
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ topic: "feed", data: { n: from + i } }));
    for (let i = 0; i < 5000; i += 500) await publish(server, batch(i + 1, 500));
    const c = await TestClient.connect(wsUrl(server));
    c.send({ type: "subscribe", topics: ["feed"], since: { feed: 0 } });
    // Keep publishing while the 5000-message replay is under way.
    for (let i = 5000; i < 7000; i += 100) {
      await publish(server, batch(i + 1, 100));
      await new Promise((r) => setTimeout(r, 5));
    }
    await c.waitFor(() => c.messages().length >= 7000, 20_000, "7000 messages");
    await new Promise((r) => setTimeout(r, 100));
    const seqs = seqsOf(c, "feed");
    assert.equal(seqs.length, 7000, "no message doubled");
    assert.deepEqual(
      seqs,
      Array.from({ length: 7000 }, (_, i) => i + 1),
      "every seq once, in order",
    );
    assert.deepEqual(c.messages().map((m) => (m.data as { n: number }).n), seqs);
    assert.equal(c.gaps().length, 0);
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.ok(stats.server.counters.replayed >= 5000);
    await c.close();
  });
});

Deno.test("a reconnect storm: 500 clients dropped at once all resume exactly", async () => {
  await withServer({ heartbeatMs: 60_000 }, async (server) => {
    const N = 500;
    const clients: TestClient[] = [];
    for (let i = 0; i < N; i += 50) {
      clients.push(
        ...await Promise.all(
          Array.from({ length: 50 }, () => TestClient.connect(wsUrl(server, "?topics=storm"))),
        ),
      );
    }
    await Promise.all(
      clients.map((c) => c.waitFor(() => c.ofType("subscribed").length === 1, 10_000)),
    );
    const epoch = clients[0].ofType("welcome")[0].epoch;
    await publish(server, Array.from({ length: 20 }, (_, i) => ({ topic: "storm", data: i + 1 })));
    await Promise.all(clients.map((c) => c.waitFor(() => c.messages().length === 20, 10_000)));

    await Promise.all(clients.map((c) => c.close())); // all dropped at once
    await publish(server, Array.from({ length: 50 }, (_, i) => ({ topic: "storm", data: 21 + i })));

    const resumed: TestClient[] = [];
    for (let i = 0; i < N; i += 50) {
      resumed.push(
        ...await Promise.all(Array.from({ length: 50 }, () => TestClient.connect(wsUrl(server)))),
      );
    }
    for (const c of resumed) {
      c.send({ type: "subscribe", topics: ["storm"], since: { storm: 20 }, epoch });
    }
    await Promise.all(
      resumed.map((c) => c.waitFor(() => c.messages().length === 50, 20_000, "50 replayed")),
    );
    await publish(server, { topic: "storm", data: 71 });
    await Promise.all(
      resumed.map((c) => c.waitFor(() => c.messages().length === 51, 20_000, "live")),
    );
    const expected = Array.from({ length: 51 }, (_, i) => 21 + i);
    for (const c of resumed) {
      assert.deepEqual(seqsOf(c, "storm"), expected);
      assert.equal(c.gaps().length, 0);
    }
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(stats.server.counters.resumes, N);
    assert.equal(stats.server.counters.replayed, N * 50);
    await Promise.all(resumed.map((c) => c.close()));
  });
});
