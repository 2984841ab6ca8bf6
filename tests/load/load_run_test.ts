/**
 * The load tester's own measurements, checked against a fake server that
 * misbehaves by a known amount (tests/_support/fake_floodgate.ts), and one run
 * against the real server. Lower latency bounds are exact (a message cannot
 * arrive before the delay); upper bounds leave room for a busy machine.
 */
import assert from "node:assert/strict";
import { checkAssertions, parseAssertion } from "../../lib/load/assertions.ts";
import { defaultConfig, type LoadConfig } from "../../lib/load/load_config.ts";
import { assertionValues } from "../../lib/load/load_result.ts";
import { runLoad } from "../../lib/load/load_run.ts";
import { emptyCounts } from "../../lib/load/sequence_checker.ts";
import { withFakeServer } from "../_support/fake_floodgate.ts";
import { withServer } from "../_support/server.ts";
import { signToken, TEST_SECRET } from "../_support/tokens.ts";

/** A short run: 1 publisher at 20/s, 2 fast subscribers, 1.5 s measured. */
function config(url: string, overrides: Partial<LoadConfig> = {}): LoadConfig {
  return {
    ...defaultConfig(),
    url,
    publishers: 1,
    rate: 20,
    subscribers: 2,
    durationSeconds: 1.5,
    warmupSeconds: 0.2,
    sampleMs: 250,
    settleMs: 2000,
    ...overrides,
  };
}

Deno.test("runLoad reports the latency a server adds to every message", async () => {
  const DELAY = 150;
  await withFakeServer({ delayMs: DELAY }, async (server) => {
    const r = await runLoad(config(server.url, { latencyFrom: "ts" }));
    const l = r.latency.fast;
    assert.ok(l.count >= 40, `only ${l.count} latencies measured`);
    for (const p of [l.p50, l.p99, l.max]) {
      assert.ok(p >= DELAY, `latency ${p} ms below the server's ${DELAY} ms delay`);
    }
    assert.ok(l.p50 < DELAY + 100, `p50 ${l.p50} ms is far above the ${DELAY} ms delay`);
    for (const c of r.clients) assert.ok(c.latency.p50 >= DELAY && c.latency.p50 < DELAY + 100);
    for (const t of r.timeline.filter((p) => p.p50 > 0)) assert.ok(t.p50 >= DELAY);
    // From the publisher's clock, the HTTP request comes on top.
    const sent = await runLoad(config(server.url, { latencyFrom: "sentAt" }));
    assert.ok(sent.latency.fast.p50 >= DELAY && sent.latency.fast.p50 < DELAY + 100);
  });
});

Deno.test("runLoad's percentiles follow a two-speed server: 3 of 4 messages fast, 1 slow", async () => {
  const delay = (seq: number) => seq % 4 === 0 ? 300 : 40;
  await withFakeServer({ delayMs: delay }, async (server) => {
    const r = await runLoad(config(server.url, { latencyFrom: "ts" }));
    const l = r.latency.fast;
    assert.ok(l.p50 >= 40 && l.p50 < 140, `p50 ${l.p50} ms should be near the fast 40 ms`);
    assert.ok(l.p95 >= 300, `p95 ${l.p95} ms should be the slow 300 ms`);
    assert.ok(l.max >= 300 && l.max < 400, `max ${l.max} ms`);
  });
});

Deno.test("runLoad counts exactly the seqs a server drops, duplicates, gaps and swaps", async () => {
  const behaviour = { drop: [3, 7, 8], duplicate: [5], gap: [10, 11, 12], swap: [14], batch: true };
  await withFakeServer(behaviour, async (server) => {
    const r = await runLoad(config(server.url));
    const last = server.seqs.get(r.config.topic)!;
    assert.ok(last >= 20, `only ${last} publishes`);
    assert.equal(r.clients.length, 2);
    for (const c of r.clients) {
      assert.deepEqual(c.counts, {
        delivered: last - 6,
        gapped: 3,
        missing: 3,
        duplicates: 1,
        outOfOrder: 1,
        undelivered: 0,
      });
      assert.equal(c.messages, last - 6 + 1, "the duplicate counts as a received message");
      // welcome + subscribed + 3 gaps + (last - 6) messages + the duplicate, each in its own frame
      assert.equal(c.frames, last);
    }
    assert.deepEqual(r.correctness.all, {
      delivered: 2 * (last - 6),
      gapped: 6,
      missing: 6,
      duplicates: 2,
      outOfOrder: 2,
      undelivered: 0,
    });
    assert.deepEqual(r.correctness.byTopic[r.config.topic], r.correctness.all);
    assert.equal(r.publish.accepted, last);
  });
});

Deno.test("runLoad reassembles chunked messages and times them once whole", async () => {
  await withFakeServer({ chunkBytes: 1024, delayMs: 100 }, async (server) => {
    const r = await runLoad(config(server.url, { payloadBytes: 5000, latencyFrom: "ts" }));
    const last = server.seqs.get(r.config.topic)!;
    for (const c of r.clients) {
      assert.deepEqual(c.counts, { ...emptyCounts(), delivered: last });
      assert.equal(c.errors, 0);
      assert.ok(c.frames >= 2 + last * 7, `${c.frames} frames: every message in ≥ 7 pieces`);
    }
    assert.ok(r.latency.fast.p50 >= 100 && r.latency.fast.p50 < 200, `p50 ${r.latency.fast.p50}`);
  });
});

Deno.test("runLoad counts what a server never sent after some seq as undelivered, not missing", async () => {
  await withFakeServer({ stopAfter: 10 }, async (server) => {
    const r = await runLoad(config(server.url, { settleMs: 300 }));
    const last = server.seqs.get(r.config.topic)!;
    for (const c of r.clients) {
      assert.equal(c.counts.delivered, 10);
      assert.equal(c.counts.missing, 0);
      assert.equal(c.counts.undelivered, last - 10);
    }
    assert.match(r.notes.join(" "), /2 fast client\(s\) had not received the last messages/);
  });
});

Deno.test("runLoad reports a stalled client's 4008 close and keeps the fast ones apart", async () => {
  await withFakeServer({ pingMs: 150 }, async (server) => {
    const r = await runLoad(config(server.url, { subscribers: 3, slow: 1, stall: true }));
    assert.deepEqual(r.closes, { "4008": 1 });
    assert.deepEqual(r.slowClients.closes, { "4008": 1 });
    assert.equal(r.slowClients.mode, "stall");
    const fast = r.clients.filter((c) => c.mode === "fast");
    assert.equal(fast.length, 2);
    for (const c of fast) {
      assert.equal(c.close, undefined);
      assert.equal(c.counts.missing + c.counts.undelivered, 0);
      // The server's /stats view is matched to the client by its id.
      assert.equal(c.server?.sentMessages, c.messages);
    }
  });
});

Deno.test("runLoad publishes over WebSocket with acks as it does over HTTP", async () => {
  await withFakeServer({}, async (server) => {
    const r = await runLoad(config(server.url, { publishOver: "ws", publishers: 2, rate: 10 }));
    const last = server.seqs.get(r.config.topic)!;
    assert.equal(r.publish.over, "ws");
    assert.equal(r.publish.accepted, last);
    assert.equal(r.publish.failed, 0);
    for (const c of r.clients) assert.equal(c.counts.delivered, last);
  });
});

Deno.test("assertions on a run fail exactly when the measured value breaks them", async () => {
  await withFakeServer({ delayMs: 120, drop: [4], duplicate: [6] }, async (server) => {
    const r = await runLoad(config(server.url, { latencyFrom: "ts" }));
    const outcomes = checkAssertions(
      ["p99<100ms", "p50>=0.12s", "missing=0", "missing=2", "duplicates<=2", "closes_4008=0"]
        .map(parseAssertion),
      assertionValues(r),
    );
    assert.deepEqual(outcomes.map((o) => [o.assertion.text, o.ok]), [
      ["p99<100ms", false],
      ["p50>=0.12s", true],
      ["missing=0", false],
      ["missing=2", true],
      ["duplicates<=2", true],
      ["closes_4008=0", true],
    ]);
  });
});

Deno.test("runLoad against Floodgate: every message reaches every client once, in order", async () => {
  await withServer({}, async (server) => {
    const r = await runLoad(
      config(server.url, { subscribers: 3, publishers: 2, rate: 15, payload: "session" }),
    );
    const published = r.publish.accepted;
    assert.ok(published >= 40);
    assert.equal(r.target.mode, "queue");
    for (const c of r.clients) {
      assert.deepEqual(c.counts, { ...emptyCounts(), delivered: published });
    }
    assert.deepEqual(Object.keys(r.latency.byKind), ["session"]);
    assert.equal(r.server.available, true);
    assert.ok(r.server.rssMaxBytes! > 0, "RSS from /metrics");
    assert.ok(r.server.delivered! > 0, "server counters from /metrics");
    assert.ok(r.timeline.length >= 4);
  });
});

Deno.test("runLoad sees Floodgate close a stalled client for its unanswered pings", async () => {
  await withServer({ heartbeatMs: 200, heartbeatTimeoutMs: 300 }, async (server) => {
    const r = await runLoad(config(server.url, { subscribers: 3, slow: 1, stall: true }));
    // The stalled client reads what reached it only after the run, the close last. Its ~6 KB
    // fit its read window, so nothing waited for it on the server: 4009, not 4008.
    assert.deepEqual(r.slowClients.closes, { "4009": 1 });
    assert.deepEqual(r.closes, { "4009": 1 }, "the fast clients answered every ping");
    assert.equal(r.server.disconnects?.["4009"], 1, "the server's own count agrees");
    assert.equal(r.correctness.fast.missing + r.correctness.fast.undelivered, 0);
  });
});

Deno.test("runLoad presents --token to a server with auth on, and keeps it out of the result", async () => {
  await withServer({ jwtSecret: TEST_SECRET, publishToken: "" }, async (server) => {
    const topic = "load-auth";
    const token = await signToken({ subscribe: [topic], publish: [topic] });
    const r = await runLoad(config(server.url, { topic, token, subscribers: 2 }));
    assert.ok(r.publish.accepted >= 20);
    assert.equal(r.publish.failed, 0);
    for (const c of r.clients) assert.equal(c.counts.delivered, r.publish.accepted);
    assert.equal(r.config.token, "***");
    assert.ok(!JSON.stringify(r).includes(token), "the token is not in the result");
    const without = await runLoad(config(server.url, { topic, subscribers: 1 }));
    assert.deepEqual(without.closes, { "4001": 1 });
    assert.equal(without.publish.accepted, 0);
    assert.match(without.notes.join(" "), /publishes failed \(first: HTTP 401\); .*pass --token/);
  });
});
