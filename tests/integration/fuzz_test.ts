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
