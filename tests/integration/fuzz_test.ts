/**
 * Fuzz-style robustness: thousands of random and malformed WebSocket frames and
 * HTTP bodies against a server in its own process; afterwards a well-behaved
 * client must still publish and receive correctly, every hostile connection must
 * be gone, and the server's memory must stay bounded. Seeded, so a failure can
 * be replayed.
 */
import assert from "node:assert/strict";
import { encodeClientFrame, Opcode, RawWebSocket } from "../../lib/load/raw_ws.ts";
import { spawnServer } from "../../lib/load/server_process.ts";
import { TestClient } from "../_support/test_client.ts";
import { seededRandom } from "../_support/prng.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261125);
const rand = seededRandom(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
const enc = new TextEncoder();

function randomString(max: number): string {
  const alphabet = [
    "a",
    "Z",
    "9",
    " ",
    "\u00e9",
    "\u20ac",
    "\ud83d\ude00",
    '"',
    "\\",
    "\n",
    "\u0000",
    "{",
    "}",
    "$",
    "*",
  ];
  return Array.from({ length: int(max) }, () => pick(alphabet)).join("");
}

function randomJson(depth = 0): unknown {
  const kind = int(depth > 3 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick([0, -1, 1e308, -0.5, 2 ** 53 + 1, NaN]);
    case 3:
      return randomString(40);
    case 4:
      return pick(["subscribe", "publish", "ping", "pong", "unsubscribe", "batch", "welcome"]);
    case 5:
      return Array.from({ length: int(6) }, () => randomJson(depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(6); i > 0; i--) {
        o[
          pick(["type", "topic", "topics", "data", "key", "since", "id", "epoch", randomString(8)])
        ] = randomJson(depth + 1);
      }
      return o;
    }
  }
}

/**
 * A frame a confused or hostile client might send. Kinds 0-6 are well-framed
 * with hostile content; 7-9 break the framing itself, after which the engine
 * drops the connection, so they only end a burst.
 */
function randomFrame(kind = int(7)): Uint8Array {
  switch (kind) {
    case 0: // valid-looking frame with random fields
    case 1:
    case 2:
      return encodeClientFrame(Opcode.Text, enc.encode(JSON.stringify(randomJson())));
    case 3: // mutated valid frame
      return encodeClientFrame(
        Opcode.Text,
        enc.encode(
          JSON.stringify({
            type: pick(["subscribe", "publish"]),
            topics: [randomString(20)],
            topic: randomString(10),
            data: randomJson(),
          }).slice(0, int(80)),
        ),
      );
    case 4: // random text
      return encodeClientFrame(Opcode.Text, enc.encode(randomString(200)));
    case 5: // random binary
      return encodeClientFrame(Opcode.Binary, crypto.getRandomValues(new Uint8Array(int(300))));
    case 6: // control frame with a payload
      return encodeClientFrame(pick([Opcode.Ping, Opcode.Pong]), enc.encode(randomString(20)));
    case 7: // random bytes as text (mostly invalid UTF-8)
      return encodeClientFrame(Opcode.Text, crypto.getRandomValues(new Uint8Array(1 + int(50))));
    case 8: // reserved opcode or a fragment without a start
      return encodeClientFrame(pick([3, 4, 7, 0xb, Opcode.Continuation]), enc.encode("x"));
    default: { // an enormous declared length, then nothing more
      const f = new Uint8Array([0x81, 0xff, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 2, 3, 4]);
      return f;
    }
  }
}

async function fuzzSockets(url: string, frames: number): Promise<number> {
  let sent = 0;
  let connections = 0;
  while (sent < frames) {
    let raw: RawWebSocket;
    try {
      raw = await RawWebSocket.connect(`${url}?topics=${pick(["a", "b", "fuzz"])}`);
    } catch {
      continue;
    }
    connections++;
    const burst = 1 + int(60);
    try {
      for (let i = 0; i < burst && sent < frames; i++, sent++) await raw.writeRaw(randomFrame());
      if (rand() < 0.5) await raw.writeRaw(randomFrame(7 + int(3)));
      // Half the time leave like a vanished peer, half the time linger a moment first.
      if (rand() < 0.5) await new Promise((r) => setTimeout(r, int(20)));
    } catch {
      // The server dropped this connection (as it should for protocol errors); open another.
    }
    raw.abort();
  }
  return connections;
}

async function fuzzHttp(base: string, requests: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  for (let i = 0; i < requests; i++) {
    const body = pick([
      () => JSON.stringify(randomJson()),
      () => randomString(100),
      () =>
        JSON.stringify(
          Array.from({ length: int(50) }, () => ({ topic: randomString(6), data: randomJson() })),
        ),
      () => JSON.stringify({ topic: "fuzz", data: randomJson(), key: randomJson() }),
      () => "[".repeat(5000),
      () => "",
    ])();
    const path = pick([
      "/publish",
      "/publish",
      "/publish",
      "/topics/x/state",
      "/topics/%ZZ/state",
      "/ws",
      "/nope",
    ]);
    const method = path === "/publish" ? "POST" : pick(["GET", "POST", "DELETE"]);
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        body: method === "GET" ? undefined : body,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      await res.body?.cancel();
    } catch {
      statuses.set(0, (statuses.get(0) ?? 0) + 1);
    }
  }
  return statuses;
}

Deno.test({
  name:
    `the server survives thousands of random frames and bodies, stays correct and bounded (seed ${SEED})`,
  sanitizeResources: false,
  async fn() {
    const server = await spawnServer([
      "--log-level",
      "error",
      "--heartbeat",
      "2s",
      "--heartbeat-timeout",
      "2s",
    ]);
    try {
      const wsBase = `${server.url.replace("http", "ws")}/ws`;
      // Warm up, then take the memory baseline.
      await fuzzHttp(server.url, 50);
      await fuzzSockets(wsBase, 100);
      await new Promise((r) => setTimeout(r, 500));
      const rssBefore = server.rssBytes();

      const [connections, statuses] = await Promise.all([
        fuzzSockets(wsBase, Number(Deno.env.get("FUZZ_FRAMES") ?? 5000)),
        fuzzHttp(server.url, 2000),
      ]);
      const stats = (await (await fetch(`${server.url}/stats`)).json()).server.counters;
      assert.ok(connections > 100, `only ${connections} connections`);
      // Most of the 5000 frames reach the hub; those written just before a client vanishes may not.
      assert.ok(stats.framesReceived > 2500, `only ${stats.framesReceived} frames reached the hub`);
      assert.ok(stats.errors > 1000, `only ${stats.errors} error frames were sent`);
      assert.equal(statuses.get(0) ?? 0, 0, "every HTTP request got an answer");
      assert.equal(
        statuses.get(500) ?? 0,
        0,
        `no internal errors: ${JSON.stringify([...statuses])}`,
      );

      // A well-behaved client still publishes and receives correctly.
      const c = await TestClient.connect(`${wsBase}?topics=after`);
      await c.waitFor(() => c.ofType("subscribed").length === 1, 5000, "subscribed");
      for (let i = 1; i <= 20; i++) c.send({ type: "publish", topic: "after", data: { i }, id: i });
      await c.waitFor(() => c.messages("after").length === 20, 5000, "20 messages");
      assert.deepEqual(
        c.messages("after").map((m) => (m.data as { i: number }).i),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        c.messages("after").map((m) => m.seq),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );

      // Every hostile connection is gone (closed by the engine, the hub, or the heartbeat).
      let clients = Infinity;
      for (let i = 0; i < 50 && clients > 1; i++) {
        clients = (await (await fetch(`${server.url}/stats`)).json()).server.clients;
        if (clients > 1) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(clients, 1, "only the well-behaved client remains");
      const rssAfter = server.rssBytes();
      const growth = (rssAfter - rssBefore) / 2 ** 20;
      assert.ok(growth < 64, `server RSS grew by ${growth.toFixed(1)} MiB`);
      await c.close();
    } finally {
      await server.stop();
    }
  },
});

/** Valid frames, abusively: churn, huge subscribe lists, chunked starts never finished, ping floods. */
async function abuseSockets(url: string, untilMs: number): Promise<number> {
  let sequences = 0;
  const text = (frame: unknown) =>
    encodeClientFrame(Opcode.Text, enc.encode(JSON.stringify(frame)));
  while (Date.now() < untilMs) {
    let raw: RawWebSocket;
    try {
      raw = await RawWebSocket.connect(url, { protocols: ["floodgate.v1.json"] });
    } catch {
      continue;
    }
    sequences++;
    try {
      switch (int(4)) {
        case 0: // subscribe/unsubscribe churn on a topic with state
          for (let i = 0; i < 100; i++) {
            await raw.writeRaw(text({ type: "subscribe", topics: ["state"] }));
            await raw.writeRaw(text({ type: "unsubscribe", topics: ["state"] }));
          }
          break;
        case 1: // far more topics than a client may hold, in one frame
          await raw.writeRaw(
            text({ type: "subscribe", topics: Array.from({ length: 3000 }, (_, i) => `m${i}`) }),
          );
          break;
        case 2: // chunked messages started and never finished
          for (let id = 1; id <= 8; id++) {
            await raw.writeRaw(
              text({ type: "chunked.start", messageId: id, totalChunks: 64, totalBytes: 4 << 20 }),
            );
          }
          break;
        default: // a flood of pings and publishes to a system topic
          for (let i = 0; i < 200; i++) {
            await raw.writeRaw(text(
              i % 2 ? { type: "ping", id: i } : {
                type: "publish",
                topic: "$metrics",
                data: i,
              },
            ));
          }
      }
      if (rand() < 0.5) await new Promise((r) => setTimeout(r, int(50)));
    } catch {
      // Closed by the server for what it sent: open another.
    }
    raw.abort();
  }
  return sequences;
}

/** HTTP beyond /publish bodies: every route, odd methods, paths, queries and headers. */
async function abuseHttp(base: string, untilMs: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  while (Date.now() < untilMs) {
    const path = pick([
      "/healthz",
      "/stats",
      "/metrics",
      `/topics/${encodeURIComponent(randomString(10))}/state`,
      `/topics/state/state?token=${randomString(30)}`,
      `/ws?topics=${randomString(300)}`,
      "/publish?x=" + "%".repeat(int(20)),
      "/" + randomString(50),
    ]);
    const headers: Record<string, string> = {};
    if (rand() < 0.5) headers.authorization = `Bearer ${"t".repeat(int(8000))}`;
    if (rand() < 0.3) headers["content-type"] = pick(["text/plain", "application/json; x", "??"]);
    if (rand() < 0.2) {
      headers["x-forwarded-for"] = Array.from({ length: 50 }, () => "1.2.3.4").join();
    }
    try {
      const res = await fetch(`${base}${path}`, {
        method: pick(["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"]),
        headers,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      await res.body?.cancel();
    } catch {
      statuses.set(0, (statuses.get(0) ?? 0) + 1);
    }
  }
  return statuses;
}

Deno.test({
  name:
    `an honest plain subscriber gets every message through abusive frames and HTTP (seed ${SEED})`,
  sanitizeResources: false,
  async fn() {
    // A 128 MiB budget: state responses in flight may hold an eighth of it (16 MiB).
    const server = await spawnServer(["--log-level", "error", "--memory-budget", "128MiB"]);
    try {
      const wsBase = `${server.url.replace("http", "ws")}/ws`;
      // 10 MB of keyed state, for the churn to snapshot.
      const state = Array.from({ length: 100 }, (_, i) => ({
        topic: "state",
        key: `k${i}`,
        data: "s".repeat(100_000),
      }));
      for (let i = 0; i < state.length; i += 10) {
        const res = await fetch(`${server.url}/publish`, {
          method: "POST",
          body: JSON.stringify(state.slice(i, i + 10)),
        });
        assert.equal(res.status, 202);
      }
      const honest = await TestClient.connect(`${wsBase}?topics=honest`, { plain: true });
      await new Promise((r) => setTimeout(r, 300));
      const rssBefore = server.rssBytes();
      const until = Date.now() + Number(Deno.env.get("FUZZ_SECONDS") ?? 8) * 1000;
      let published = 0;
      const publisher = (async () => {
        while (Date.now() < until) {
          const res = await fetch(`${server.url}/publish`, {
            method: "POST",
            body: JSON.stringify({ topic: "honest", data: { n: ++published } }),
          });
          const body = await res.text();
          assert.equal(res.status, 202, body);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 250);
      const [sequences, statuses] = await Promise.all([
        abuseSockets(wsBase, until),
        abuseHttp(server.url, until),
        publisher,
      ]);
      clearInterval(sampler);
      assert.ok(sequences > 20, `only ${sequences} abusive connections`);
      assert.equal(statuses.get(0) ?? 0, 0, "every HTTP request got an answer");
      assert.equal(
        statuses.get(500) ?? 0,
        0,
        `no internal errors: ${JSON.stringify([...statuses])}`,
      );
      await honest.waitFor(
        () => honest.messages("honest").length === published,
        10_000,
        `${published} messages`,
      );
      assert.deepEqual(
        honest.messages("honest").map((m) => m.seq),
        Array.from({ length: published }, (_, i) => i + 1),
      );
      assert.deepEqual(honest.gaps(), []);
      const growth = (peak - rssBefore) / 2 ** 20;
      assert.ok(growth < 64, `server RSS grew by ${growth.toFixed(1)} MiB at its peak`);
      honest.close();
    } finally {
      await server.stop();
    }
  },
});
