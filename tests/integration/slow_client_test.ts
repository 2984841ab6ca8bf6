/**
 * The slow-client scenario over real sockets: one client completes the
 * handshake and never reads, three fast clients read everything, and messages
 * are published at 50 msg/s × 1 KiB. With Floodgate's queues the fast clients
 * get every message in order and the slow one is cut off (gaps, then 4008) with
 * bounded memory; with `--mode naive` the same input stalls everyone. Each
 * scenario runs with plain clients (no subprotocol: flow control from the
 * WebSocket's own ping/pong) and with protocol-aware ones (`ping {id}`).
 */
import assert from "node:assert/strict";
import type { Settings } from "../../lib/config/settings.ts";
import type { ClientStats } from "../../lib/hub/client_stats.ts";
import type { ClientLevel } from "../../lib/protocol/subprotocol.ts";
import type { FloodgateServer } from "../../lib/server.ts";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import { Subscriber } from "../../lib/load/subscriber.ts";
import { fetchMetrics } from "../../lib/load/prometheus_text.ts";
import { readUntilClose } from "../_support/raw_read.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

const KiB = 1024;
const RATE = 50; // msg/s
const PAYLOAD = "x".repeat(1000); // ~1 KiB frames

interface Outcome {
  fast: TestClient[];
  /** Messages of the 1 KiB phase, and how many each fast client had when it ended. */
  phasePublished: number;
  phaseSeqs: [number, number];
  deliveredAtPhaseEnd: number[];
  prefill: number;
  slowSamples: ClientStats[];
  raw: RawWebSocket;
}

async function stats(server: FloodgateServer) {
  return await (await fetch(`${server.url}/stats`)).json() as {
    server: { counters: { disconnectsByCode: Record<string, number> } };
    clients: ClientStats[];
  };
}

/**
 * Connects the clients, optionally fills the slow client's kernel buffers with a
 * 5 MB burst, then publishes 50 msg/s × 1 KiB for `seconds`.
 */
async function runScenario(
  server: FloodgateServer,
  options: { seconds: number; prefillBytes: number; level: ClientLevel },
): Promise<Outcome> {
  const plain = options.level === "plain";
  // The stalled client: a raw TCP socket that completes the handshake and never reads again.
  const raw = await RawWebSocket.connect(
    wsUrl(server, "?topics=feed"),
    plain ? {} : { protocols: ["floodgate.v1.json"] },
  );
  const fast = await Promise.all(
    [0, 1, 2].map(() => TestClient.connect(wsUrl(server, "?topics=feed"), { plain })),
  );
  const fastIds = new Set(fast.map((c) => c.ofType("welcome")[0].clientId));
  const slowSamples: ClientStats[] = [];
  const sample = async () => {
    const slow = (await stats(server)).clients.find((c) => !fastIds.has(c.id));
    if (slow) slowSamples.push(slow);
  };

  let prefill = 0;
  const big = "y".repeat(64 * KiB);
  while (prefill * 64 * KiB < options.prefillBytes) {
    await publish(server, Array.from({ length: 8 }, () => ({ topic: "feed", data: big })));
    prefill += 8;
  }

  const total = options.seconds * RATE;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await publish(server, { topic: "feed", data: { i, pad: PAYLOAD } });
    if (i % 10 === 0) await sample();
  }
  await new Promise((r) => setTimeout(r, 300));
  await sample();
  return {
    fast,
    phasePublished: total,
    phaseSeqs: [prefill + 1, prefill + total],
    deliveredAtPhaseEnd: fast.map((c) => c.messages("feed").length),
    prefill,
    slowSamples,
    raw,
  };
}

function assertInOrder(client: TestClient, count: number): void {
  const seqs = client.messages("feed").map((m) => m.seq);
  assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i + 1));
  assert.equal(client.gaps().length, 0, "a fast client must not see gaps");
}

const queueSettings: Partial<Settings> = {
  maxInflightBytes: 64 * KiB,
  maxQueueMessages: 50,
  maxQueueBytes: 2 * 1024 * KiB,
  slowTimeoutMs: 1000,
  heartbeatMs: 60_000,
  heartbeatTimeoutMs: 60_000,
};

for (const level of ["plain", "protocol"] as const) {
  Deno.test(`a ${level} client that never reads is cut off with gaps and 4008 while fast ${level} clients get everything`, async () => {
    await withServer(queueSettings, async (server) => {
      const out = await runScenario(server, { seconds: 5, prefillBytes: 0, level });
      const total = out.phasePublished;
      for (const c of out.fast) {
        await c.waitFor(() => c.messages("feed").length === total, 5000, `${total} messages`);
        assertInOrder(c, total);
      }

      const s = await stats(server);
      assert.equal(
        s.server.counters.disconnectsByCode["4008"],
        1,
        "the slow client is closed with 4008",
      );
      assert.equal(s.clients.length, 3, "only the fast clients remain");
      assert.ok(s.clients.every((c) => c.level === level));
      const slowDisconnects = await fetchMetrics(`${server.url}/metrics`);
      assert.equal(slowDisconnects.get("floodgate_slow_disconnects_total"), 1);

      // Memory stayed bounded: the slow client's queue and unconfirmed bytes never passed their limits.
      assert.ok(out.slowSamples.length > 5);
      const maxQueued = Math.max(...out.slowSamples.map((c) => c.queue.messages));
      const maxInflight = Math.max(...out.slowSamples.map((c) => c.inflightBytes));
      assert.ok(maxQueued <= 50, `slow queue held ${maxQueued} messages`);
      assert.ok(
        maxInflight <= 64 * KiB + 2 * KiB,
        `slow client had ${maxInflight} bytes in flight`,
      );
      assert.ok(
        out.slowSamples.some((c) => c.dropped > 0),
        "the ladder dropped for the slow client",
      );
      // Why flow control counts unconfirmed bytes: the engine's bufferedAmount stays 0 while the
      // kernel absorbs the first ~4 MB, but the bytes the client has not confirmed reach the window,
      // which shrinks to its floor for a client that reads nothing.
      assert.ok(out.slowSamples.every((c) => c.bufferedAmount === 0), "bufferedAmount never rose");
      assert.ok(
        out.slowSamples.some((c) => c.inflightBytes >= c.windowBytes),
        `unconfirmed bytes only reached ${maxInflight}`,
      );
      assert.ok(out.slowSamples.at(-1)!.windowBytes < 16 * KiB);

      // What the slow client would read: messages in order from seq 1, then the 4008 close.
      const read = await readUntilClose(out.raw, 2000);
      const seqs: number[] = [];
      for (const text of read.texts) {
        const frame = JSON.parse(text);
        const items = frame.type === "batch" ? frame.messages : [frame];
        for (const m of items) if (m.type === "message") seqs.push(m.seq);
      }
      assert.ok(seqs.length > 0);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
      assert.deepEqual(read.close, { code: 4008, reason: "slow consumer" });

      out.raw.abort();
      for (const c of out.fast) await c.close();
    });
  });
}

/**
 * Limits that let a fast client absorb the whole 5 MB burst even when it reads
 * late (80 messages < 128, 5 MiB < 8 MiB), while the stalled client, which
 * also gets the 1 KiB messages, passes 128.
 */
const burstSettings: Partial<Settings> = {
  maxQueueMessages: 128,
  slowTimeoutMs: 1000,
  heartbeatMs: 60_000,
  heartbeatTimeoutMs: 60_000,
};

for (const level of ["plain", "protocol"] as const) {
  Deno.test(`with full kernel buffers, queue mode keeps fast ${level} clients current`, async () => {
    await withServer(burstSettings, async (server) => {
      const out = await runScenario(server, { seconds: 3, prefillBytes: 5 * 1024 * KiB, level });
      const total = out.prefill + out.phasePublished;
      for (const c of out.fast) {
        await c.waitFor(() => c.messages("feed").length === total, 10_000, `${total} messages`);
        assertInOrder(c, total);
      }
      // By the end of the publishing phase the fast clients were (almost) current.
      for (const n of out.deliveredAtPhaseEnd) {
        assert.ok(n >= total - 5, `fast client had ${n}/${total}`);
      }
      const s = await stats(server);
      assert.equal(s.server.counters.disconnectsByCode["4008"], 1);
      out.raw.abort();
      for (const c of out.fast) await c.close();
    });
  });

  Deno.test(`with full kernel buffers, naive mode stalls every fast ${level} client behind the slow one`, async () => {
    await withServer({ ...burstSettings, mode: "naive" }, async (server) => {
      const out = await runScenario(server, { seconds: 3, prefillBytes: 5 * 1024 * KiB, level });
      const total = out.prefill + out.phasePublished;
      for (const n of out.deliveredAtPhaseEnd) {
        assert.ok(
          n < out.prefill + out.phasePublished / 2,
          `naive mode should stall: a fast client got ${n} of ${total}`,
        );
      }
      const s = await stats(server);
      assert.equal(
        s.server.counters.disconnectsByCode["4008"],
        undefined,
        "naive mode has no 4008",
      );
      out.raw.abort();
      for (const c of out.fast) await c.close();
    });
  });
}

Deno.test("on the native engine (no ping/pong), a plain stalled client is cut off once the kernel's buffers are full", async () => {
  await withServer({ ...burstSettings, engine: "deno" }, async (server) => {
    // bufferedAmount moves only after the kernel's ~4 MB: the 5 MB burst fills them.
    const out = await runScenario(server, {
      seconds: 3,
      prefillBytes: 5 * 1024 * KiB,
      level: "plain",
    });
    const total = out.prefill + out.phasePublished;
    for (const c of out.fast) {
      await c.waitFor(() => c.messages("feed").length === total, 10_000, `${total} messages`);
      assertInOrder(c, total);
    }
    assert.ok(out.slowSamples.some((c) => c.progress === "buffered" && c.bufferedAmount > 0));
    // Its queue filled only once the kernel's buffers were: --slow-timeout (1 s) runs from then.
    let closes: Record<string, number> = {};
    for (let i = 0; i < 40 && closes["4008"] === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      closes = (await stats(server)).server.counters.disconnectsByCode;
    }
    assert.equal(closes["4008"], 1);
    out.raw.abort();
    for (const c of out.fast) await c.close();
  });
});

Deno.test("a client that reads, but falls further and further behind, is closed with 4008, not as dead", async () => {
  await withServer({ heartbeatMs: 300, heartbeatTimeoutMs: 600 }, async (server) => {
    // Reads one message per 20 ms (50/s) and answers pings; messages come at 100/s.
    const slow = await Subscriber.connect({
      url: wsUrl(server),
      topics: ["feed"],
      mode: { kind: "slow", slowMs: 20 },
    });
    const fast = await TestClient.connect(wsUrl(server, "?topics=feed"));
    const started = Date.now();
    let i = 0;
    while (slow.close === undefined && Date.now() - started < 8000) {
      await publish(server, { topic: "feed", data: { i: i++, pad: "x".repeat(150) } });
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(slow.close?.code, 4008, `closed with ${JSON.stringify(slow.close)}`);
    assert.ok(slow.messages > 20, "it was reading");
    await fast.waitFor(() => fast.messages("feed").length === i, 5000, "every message");
    const s = await stats(server);
    assert.equal(s.server.counters.disconnectsByCode["4009"], undefined);
    await slow.disconnect();
    await fast.close();
  });
});

/** Limits for the lag tests: a short `--max-lag`, and no heartbeat closes. */
const lagSettings: Partial<Settings> = {
  maxLagMs: 400,
  heartbeatMs: 60_000,
  heartbeatTimeoutMs: 60_000,
};

/**
 * Publishes `body(i)` for i = 0, 1, … about every 10 ms for `ms`, calling
 * `after(i + 1)` after each; returns how many were published.
 */
async function publishFor(
  server: FloodgateServer,
  ms: number,
  body: (i: number) => unknown,
  after?: (published: number) => Promise<void>,
): Promise<number> {
  let i = 0;
  const started = Date.now();
  while (Date.now() - started < ms) {
    await publish(server, body(i++));
    await new Promise((r) => setTimeout(r, 10));
    await after?.(i);
  }
  return i;
}

Deno.test("a keyed reader that lags past --max-lag gets the latest per key, with gaps, and stays connected", async () => {
  await withServer(
    lagSettings,
    async (server) => {
      // Reads one message per 15 ms (~66/s); session updates come at ~80/s over 20 keys.
      const slow = await Subscriber.connect({
        url: wsUrl(server),
        topics: ["s"],
        mode: { kind: "slow", slowMs: 15 },
      });
      const i = await publishFor(
        server,
        3000,
        (i) => ({ topic: "s", key: `k${i % 20}`, data: { i } }),
      );
      await new Promise((r) => setTimeout(r, 1500));
      const report = await slow.finish({ s: i }, 500);
      const counts = report.topics.s;
      assert.equal(slow.close, undefined, "still connected");
      assert.equal(counts.missing + counts.duplicates + counts.outOfOrder, 0);
      assert.ok(counts.gapped > 0, "coalesced seqs are reported as gaps");
      assert.equal(counts.delivered + counts.gapped, i, "every seq delivered or gapped");
      const s = await stats(server);
      assert.ok(s.clients[0].coalesced > 0);
      await slow.disconnect();
    },
  );
});

Deno.test("an unkeyed reader that falls behind stays about --max-lag behind, told of what it missed", async () => {
  await withServer(
    lagSettings,
    async (server) => {
      // Reads one message per 50 ms (20/s); messages come at ~80/s. Were every one of them
      // delivered, it would end seconds behind, with the backlog in its socket buffers.
      const slow = await Subscriber.connect({
        url: wsUrl(server),
        topics: ["feed"],
        mode: { kind: "slow", slowMs: 50 },
      });
      let laggedSeen = 0;
      const i = await publishFor(
        server,
        3000,
        (i) => ({ topic: "feed", data: { i, pad: "x".repeat(150) } }),
        async (published) => {
          if (published % 20 !== 0) return;
          const metrics = await fetchMetrics(`${server.url}/metrics`);
          laggedSeen = Math.max(laggedSeen, metrics.get("floodgate_lagged_clients") ?? 0);
        },
      );
      assert.equal(laggedSeen, 1, "/metrics showed the lagged client");
      const last = { feed: i };
      const deadline = Date.now() + 2000;
      while (!slow.caughtUp(last) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const caughtUp = slow.caughtUp(last);
      const report = await slow.finish(last, 0);
      const counts = report.topics.feed;
      assert.equal(slow.close, undefined, "still connected");
      assert.ok(caughtUp, `within 2 s of the last publish: ${JSON.stringify(counts)}`);
      assert.equal(counts.missing + counts.duplicates + counts.outOfOrder, 0);
      assert.ok(counts.gapped > 0, "dropped seqs are reported as gaps");
      assert.ok(counts.delivered > 20, "it kept reading");
      assert.equal(counts.delivered + counts.gapped, i, "every seq delivered or gapped");
      const client = (await stats(server)).clients[0];
      assert.ok(client.dropped > 0);
      assert.ok(client.windowBytes < 64 * KiB, `window ${client.windowBytes}`);
      await slow.disconnect();
    },
  );
});
