/** The SDK against a real Floodgate server over real sockets. */
import assert from "node:assert/strict";
import { connect, type ConnectOptions, type FloodgateClient } from "../../lib/client/client.ts";
import type { GapEvent, Message, OpenEvent } from "../../lib/client/events.ts";
import { startServer } from "../../lib/server.ts";
import { publish, testSettings, withServer, wsUrl } from "../_support/server.ts";
import { withProxy } from "../_support/tcp_proxy.ts";
import { signToken, TEST_SECRET } from "../_support/tokens.ts";
import { waitUntil } from "../_support/wait.ts";

/** Records a client's events. */
function record(fg: FloodgateClient) {
  const log = {
    opens: [] as OpenEvent[],
    closes: [] as number[],
    gaps: [] as GapEvent[],
    snapshots: [] as number[],
    resyncs: [] as number[],
    errors: [] as string[],
  };
  fg.on("open", (e) => log.opens.push(e));
  fg.on("close", (e) => log.closes.push(e.code));
  fg.on("gap", (g) => log.gaps.push(g));
  fg.on("snapshot", (s) => log.snapshots.push(s.seq));
  fg.on("resync", (r) => log.resyncs.push(r.seq));
  fg.on("error", (e) => log.errors.push(e.code));
  return log;
}

/** A client subscribed to `topic` (subscription confirmed), recording its messages. */
async function subscribed(url: string, topic: string, options: ConnectOptions = {}) {
  const fg = connect(url, options);
  const got: Message[] = [];
  fg.subscribe(topic, (m) => got.push(m));
  await waitUntil(() => fg.lastSeq(topic) === 0, 5000, "subscribed");
  return { fg, got };
}

async function serverState(url: string, topic: string) {
  return await (await fetch(`${url}/topics/${topic}/state`)).json();
}

Deno.test("connect delivers messages in order and answers the server's pings", async () => {
  // Pings every 100 ms, unanswered ones close after 300 ms: a client that does
  // not pong would be closed with 4009 within the second this test waits.
  await withServer({ heartbeatMs: 100, heartbeatTimeoutMs: 300 }, async (server) => {
    const { fg, got } = await subscribed(wsUrl(server), "t");
    const log = record(fg);
    for (let i = 1; i <= 5; i++) await publish(server, { topic: "t", data: i });
    await waitUntil(() => got.length === 5, 5000, "5 messages");
    await new Promise((r) => setTimeout(r, 1000));
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(stats.server.counters.heartbeatTimeouts, 0);
    assert.equal(typeof stats.clients[0].lastPongAgoMs, "number", "the server got pongs");
    assert.deepEqual(got.map((m) => m.data), [1, 2, 3, 4, 5]);
    assert.deepEqual(log.closes, [], "never disconnected");
    assert.equal(fg.status, "open");
    await fg.close();
    assert.equal(fg.status, "closed");
  });
});

Deno.test("a batch frame is unpacked into its messages, in order", async () => {
  await withServer({}, async (server) => {
    const { fg, got } = await subscribed(wsUrl(server), "t");
    const framesBefore = fg.stats.frames;
    await publish(server, Array.from({ length: 20 }, (_, i) => ({ topic: "t", data: i })));
    await waitUntil(() => got.length === 20, 5000, "20 messages");
    assert.equal(fg.stats.frames - framesBefore, 1, "one WebSocket frame carried all 20");
    assert.deepEqual(got.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    await fg.close();
  });
});

Deno.test("state() follows the snapshot and keyed messages, reporting changed keys", async () => {
  await withServer({}, async (server) => {
    await publish(server, [
      { topic: "sessions", key: "s-1", data: { status: "idle" } },
      { topic: "sessions", key: "s-2", data: { status: "busy" } },
    ]);
    const fg = connect(wsUrl(server));
    const sessions = fg.state<{ status: string }>("sessions");
    const changed: string[][] = [];
    sessions.onChange((c) => changed.push(c.changed));
    await waitUntil(() => sessions.size === 2, 5000, "snapshot");
    await publish(server, { topic: "sessions", key: "s-1", data: { status: "busy" } });
    await waitUntil(() => sessions.get("s-1")?.status === "busy", 5000, "update");
    assert.deepEqual(changed, [["s-1", "s-2"], ["s-1"]]);
    assert.equal(sessions.seq, 3);
    assert.deepEqual(sessions.toObject(), (await serverState(server.url, "sessions")).state);
    await fg.close();
  });
});

Deno.test("after the connection drops, the client reconnects and resumes every topic from its last seq", async () => {
  await withServer({}, async (server) => {
    await withProxy(server.port, async (proxy) => {
      const fg = connect(`ws://127.0.0.1:${proxy.port}/ws`, {
        httpUrl: server.url,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      const log = record(fg);
      const got: Message[] = [];
      fg.subscribe("sessions", (m) => got.push(m));
      fg.subscribe("quiet", () => {});
      await waitUntil(() => fg.lastSeq("sessions") === 0 && fg.lastSeq("quiet") === 0);
      for (let i = 1; i <= 3; i++) {
        await publish(server, { topic: "sessions", key: `k${i}`, data: i });
      }
      await waitUntil(() => got.length === 3, 5000, "3 messages");

      proxy.drop();
      await waitUntil(() => fg.status !== "open", 5000, "the drop to be noticed");
      await publish(
        server,
        [4, 5, 6].map((i) => ({ topic: "sessions", key: `k${i % 4}`, data: i })),
      );
      await waitUntil(() => log.opens.length === 2, 5000, "the reconnect");
      await waitUntil(() => fg.lastSeq("sessions") === 6, 5000, "the resume to reach seq 6");
      await publish(server, { topic: "sessions", key: "k7", data: 7 });
      await waitUntil(() => got.some((m) => m.seq === 7), 5000, "live message 7");

      assert.equal(log.opens[1].resumed, true);
      assert.equal(log.opens[1].epochChanged, false);
      // The server replayed exactly what was missed: every seq once, in order, no gap.
      assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(got.slice(3, 6).map((m) => m.data), [4, 5, 6]);
      assert.deepEqual(log.gaps, []);
      assert.equal(fg.stats.duplicates, 0);
      assert.equal(fg.lastSeq("quiet"), 0, "the quiet topic resumed too");
      assert.deepEqual(
        fg.state("sessions").toObject(),
        (await serverState(server.url, "sessions")).state,
        "the keyed store matches the server",
      );
      await fg.close();
    });
  });
});

Deno.test("a resume beyond the server's history gets a gap and a fresh snapshot", async () => {
  await withServer({ historySize: 2 }, async (server) => {
    await withProxy(server.port, async (proxy) => {
      const fg = connect(`ws://127.0.0.1:${proxy.port}/ws`, {
        httpUrl: server.url,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      const log = record(fg);
      const sessions = fg.state("sessions");
      await publish(server, { topic: "sessions", key: "a", data: 1 });
      await waitUntil(() => sessions.get("a") === 1, 5000, "the first value");
      proxy.drop();
      await waitUntil(() => fg.status !== "open", 5000, "the drop to be noticed");
      await publish(
        server,
        ["a", "b", "c", "d", "e"].map((key, i) => ({ topic: "sessions", key, data: i + 2 })),
      );
      await waitUntil(() => fg.lastSeq("sessions") === 6 && log.snapshots.length === 2, 5000);
      assert.deepEqual(
        log.gaps.map((g) => [g.fromSeq, g.toSeq, g.reason]),
        [[2, 6, "history_exceeded"]],
        "the history holds 2 messages: seqs 2 to 6 cannot be replayed",
      );
      assert.deepEqual(sessions.toObject(), { a: 2, b: 3, c: 4, d: 5, e: 6 });
      assert.equal(sessions.stale, false);
      await fg.close();
    });
  });
});

Deno.test("a resume with nothing missed gets neither a gap nor a second snapshot", async () => {
  await withServer({}, async (server) => {
    await withProxy(server.port, async (proxy) => {
      await publish(server, { topic: "s", key: "a", data: 1 });
      const fg = connect(`ws://127.0.0.1:${proxy.port}/ws`, {
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      const log = record(fg);
      fg.subscribe("s");
      await waitUntil(() => fg.lastSeq("s") === 1, 5000, "snapshot");
      proxy.drop();
      await waitUntil(() => log.opens.length === 2, 5000, "the reconnect");
      await publish(server, { topic: "s", key: "a", data: 2 });
      await waitUntil(() => fg.state("s").get("a") === 2, 5000, "the next message");
      assert.deepEqual(log.snapshots, [1]);
      assert.deepEqual(log.gaps, []);
      await fg.close();
    });
  });
});

Deno.test("a gap on a keyed topic refetches its state and tells the app", async () => {
  // A queue of 5 messages: 50 distinct keys published in one go overflow it,
  // so the server drops the oldest and sends a `dropped` gap.
  await withServer({ maxQueueMessages: 5 }, async (server) => {
    const fg = connect(wsUrl(server));
    const log = record(fg);
    const sessions = fg.state("sessions");
    await waitUntil(() => fg.lastSeq("sessions") === 0, 5000, "subscribed");
    await publish(server, { topic: "sessions", key: "first", data: 0 });
    await waitUntil(() => sessions.size === 1, 5000, "a keyed message");
    await publish(
      server,
      Array.from({ length: 50 }, (_, i) => ({ topic: "sessions", key: `k${i}`, data: i })),
    );
    await waitUntil(() => log.resyncs.length > 0 && !sessions.stale, 5000, "the refetch");
    const dropped = log.gaps.filter((g) => g.reason === "dropped");
    assert.ok(dropped.length > 0, "the server reported dropped seqs");
    assert.ok(dropped.every((g) => g.refetch), "each gap announced the refetch");
    assert.equal(sessions.size, 51, "every key is back");
    assert.deepEqual(sessions.toObject(), (await serverState(server.url, "sessions")).state);
    assert.deepEqual(log.errors, []);
    await fg.close();
  });
});

Deno.test("a server restart changes the epoch: the client reconnects and replaces its state", async () => {
  let server = await startServer(testSettings());
  const port = server.port;
  const fg = connect(wsUrl(server), { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
  try {
    const log = record(fg);
    const sessions = fg.state("sessions");
    await publish(server, { topic: "sessions", key: "old", data: 1 });
    await waitUntil(() => sessions.has("old"), 5000, "the first server's state");
    const firstEpoch = fg.epoch;
    await server.shutdown();
    await waitUntil(() => log.closes.includes(1001), 5000, "the 1001 close");
    server = await startServer(testSettings({ port }));
    await publish(server, { topic: "sessions", key: "new", data: 2 });
    await waitUntil(() => log.opens.length === 2, 5000, "the reconnect");
    await waitUntil(() => sessions.has("new") && !sessions.has("old"), 5000, "the new state");
    assert.notEqual(fg.epoch, firstEpoch);
    assert.equal(log.opens[1].epochChanged, true);
    assert.equal(fg.lastSeq("sessions"), 1, "seqs restarted with the new epoch");
    await publish(server, { topic: "sessions", key: "new", data: 3 });
    await waitUntil(() => sessions.get("new") === 3, 5000, "seq 2 of the new epoch");
  } finally {
    await fg.close();
    await server.shutdown();
  }
});

Deno.test("a server that goes silent is declared dead and the client reconnects", async () => {
  await withServer({}, async (server) => {
    await withProxy(server.port, async (proxy) => {
      const fg = connect(`ws://127.0.0.1:${proxy.port}/ws`, {
        livenessTimeoutMs: 300,
        reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
      });
      const log = record(fg);
      fg.subscribe("t");
      await waitUntil(() => fg.status === "open", 5000, "open");
      proxy.stall();
      await waitUntil(() => log.errors.includes("liveness_timeout"), 5000, "the liveness timeout");
      proxy.drop(); // drop the half-open link, as a kernel timeout eventually would
      proxy.resume();
      await waitUntil(() => log.opens.length === 2, 5000, "the reconnect");
      await publish(server, { topic: "t", data: "after" });
      await waitUntil(() => fg.lastSeq("t") === 1, 5000, "delivery after the reconnect");
      await fg.close();
    });
  });
});

Deno.test("publish over WebSocket resolves with the seq; a refused publish rejects with its code", async () => {
  await withServer({}, async (server) => {
    const { fg, got } = await subscribed(wsUrl(server), "t");
    assert.equal(await fg.publish("t", { hello: 1 }, { key: "k" }), 1);
    await assert.rejects(
      fg.publish("$metrics", 1),
      (e: Error & { code?: string }) => e.code === "forbidden",
    );
    await waitUntil(() => got.length === 1, 5000, "own message");
    assert.deepEqual(got[0].data, { hello: 1 });
    assert.equal(typeof (await fg.ping()), "number");
    await fg.close();
  });
});

Deno.test("connect refuses bad URLs and topic names with TypeError", async () => {
  assert.throws(() => connect("ftp://example.test/ws"), TypeError);
  const fg = connect("ws://127.0.0.1:9/ws", { reconnect: false });
  const statuses: string[] = [];
  fg.on("status", (s) => statuses.push(s.status));
  assert.throws(() => fg.subscribe("bad topic"), TypeError);
  await fg.close();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(statuses, ["closed"], "closed before it started: it never connects");
});

Deno.test("a signed token gets in; a bad fixed token ends with 4001 and no retry", async () => {
  await withServer({ jwtSecret: TEST_SECRET }, async (server) => {
    const token = await signToken({ subscribe: ["sessions"], publish: ["sessions"] });
    const { fg, got } = await subscribed(wsUrl(server), "sessions", { token });
    assert.equal(await fg.publish("sessions", { ok: true }, { key: "k" }), 1);
    await waitUntil(() => got.length === 1, 5000, "its own message");
    await assert.rejects(
      fg.publish("other", 1),
      (e: Error & { code?: string }) => e.code === "forbidden",
    );
    await fg.close();
    const bad = connect(wsUrl(server), { token: "not-a-jwt", reconnect: { initialDelayMs: 10 } });
    const closes: (number | undefined)[] = [];
    bad.on("close", (e) => closes.push(e.code, e.reconnectInMs));
    await waitUntil(() => bad.status === "closed", 5000, "the refusal");
    assert.deepEqual(closes, [4001, undefined], "closed for good: a fixed token will not improve");
  });
});

Deno.test("a token function is called before every connect and its failure is retried", async () => {
  await withServer({}, async (server) => {
    const errors: string[] = [];
    let calls = 0;
    const fg = connect(wsUrl(server), {
      token: () => {
        calls++;
        if (calls === 1) throw new Error("token service down");
        return `t${calls}`;
      },
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    fg.on("error", (e) => errors.push(e.code));
    await waitUntil(() => fg.status === "open", 5000, "the second attempt to connect");
    assert.equal(calls, 2);
    assert.deepEqual(errors, ["connect_failed"]);
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(stats.clients.length, 1);
    await fg.close();
  });
});

Deno.test("removing the last handler unsubscribes, but not a topic held by state() or topics", async () => {
  await withServer({}, async (server) => {
    const fg = connect(wsUrl(server), { topics: ["held"] });
    const a = fg.subscribe("plain", () => {});
    const b = fg.subscribe("held", () => {});
    fg.state("kept");
    const c = fg.subscribe("kept", () => {});
    await waitUntil(() => server.hub.snapshotStats().topics === 3, 5000, "three subscriptions");
    for (const sub of [a, b, c]) sub.unsubscribe();
    await waitUntil(() => server.hub.snapshotStats().topics === 2, 5000, "plain unsubscribed");
    assert.deepEqual(fg.topics.sort(), ["held", "kept"]);
    fg.unsubscribe("held");
    await waitUntil(() => server.hub.snapshotStats().topics === 1, 5000, "held unsubscribed");
    await fg.close();
  });
});

Deno.test("asking for msgpack gets MessagePack frames from the server", async () => {
  await withServer({}, async (server) => {
    const { fg, got } = await subscribed(wsUrl(server), "t", { codec: "msgpack" });
    assert.equal(fg.codec, "msgpack");
    await publish(server, { topic: "t", data: "hello" });
    await waitUntil(() => got.length === 1, 5000, "the message");
    await fg.close();
  });
});
