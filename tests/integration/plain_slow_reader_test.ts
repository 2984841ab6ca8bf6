/**
 * A plain client (no subprotocol, never sends a frame) that reads slowly on a
 * keyed topic: it pauses its socket after every frame, long enough that it
 * cannot keep up. The server learns its progress only from the pongs its
 * WebSocket sends by itself, keeps its memory bounded, coalesces its queue to
 * the latest value per key with gaps, and never disconnects it.
 */
import assert from "node:assert/strict";
import type { ClientStats } from "../../lib/hub/client_stats.ts";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";

const KEYS = 20;
const PAD = "s".repeat(500);

interface Reader {
  /** Per seq: delivered or told skipped. */
  covered: Set<number>;
  latest: Map<string, number>;
  gaps: number;
  delivered: number;
  close: { code: number; reason: string } | undefined;
  done: Promise<void>;
  stop(): void;
}

/** Reads one frame, then pauses 15 ms per message it carried: ~66 messages/s at most. */
function slowReader(raw: RawWebSocket): Reader {
  let stopped = false;
  const r: Reader = {
    covered: new Set(),
    latest: new Map(),
    gaps: 0,
    delivered: 0,
    close: undefined,
    done: Promise.resolve(),
    stop: () => (stopped = true),
  };
  r.done = (async () => {
    while (!stopped) {
      const event = await raw.read();
      if (!event || event.kind === "close") {
        // (The test's own abort at the end ends the read too: that is not a disconnect.)
        if (!stopped) {
          r.close = event ? { code: event.code, reason: event.reason } : { code: 1006, reason: "" };
        }
        return;
      }
      if (event.kind !== "text") continue;
      const frame = JSON.parse(event.text);
      let n = 0;
      for (const item of frame.type === "batch" ? frame.messages : [frame]) {
        if (item.type === "gap") {
          r.gaps++;
          for (let s = item.fromSeq; s <= item.toSeq; s++) r.covered.add(s);
        } else if (item.type === "message") {
          assert.ok(!r.covered.has(item.seq), `seq ${item.seq} arrived twice`);
          r.covered.add(item.seq);
          r.latest.set(item.key, item.data.i);
          r.delivered++;
          n++;
        }
      }
      if (n > 0) await new Promise((resolve) => setTimeout(resolve, 15 * n));
    }
  })();
  return r;
}

Deno.test("a plain slow reader on a keyed topic gets the latest value of every key, gaps for the rest, bounded memory, and stays connected", async () => {
  const settings = { maxLagMs: 400, heartbeatMs: 1000, heartbeatTimeoutMs: 5000 };
  await withServer(settings, async (server) => {
    const raw = await RawWebSocket.connect(wsUrl(server, "?topics=s"));
    const reader = slowReader(raw);
    const samples: ClientStats[] = [];
    const lastOf = new Map<string, number>();
    let i = 0;
    const started = Date.now();
    // ~200 session updates/s over 20 keys for 3 s: three times what it reads.
    while (Date.now() - started < 3000) {
      const batch = [0, 1, 2].map(() => {
        const key = `k${i % KEYS}`;
        lastOf.set(key, i);
        return { topic: "s", key, data: { i: i++, pad: PAD } };
      });
      await publish(server, batch);
      await new Promise((r) => setTimeout(r, 10));
      if (i % 30 === 0) {
        samples.push((await (await fetch(`${server.url}/stats`)).json()).clients[0]);
      }
    }
    const published = i;
    const deadline = Date.now() + 5000;
    while (reader.covered.size < published && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const client: ClientStats = (await (await fetch(`${server.url}/stats`)).json()).clients[0];
    reader.stop();
    raw.abort();
    await reader.done;

    assert.equal(reader.close, undefined, "never disconnected");
    assert.equal(client.level, "plain");
    assert.equal(client.progress, "wire-ping", "progress from the WebSocket's own pongs");
    assert.equal(reader.covered.size, published, "every seq delivered or covered by a gap");
    assert.ok(reader.gaps > 0, "it fell behind: some seqs were coalesced away");
    assert.ok(reader.delivered < published);
    assert.deepEqual(
      [...reader.latest.entries()].sort(),
      [...lastOf.entries()].sort(),
      "the latest value of every key arrived",
    );
    // Memory held for it stays bounded by the keys, not by what was published: until it is found
    // lagging, its queue holds about --max-lag's worth (200/s × 0.4 s); once lagging, one
    // message per key.
    const lagged = samples.filter((c) => c.lagged);
    assert.ok(lagged.length > 0, "it was seen lagging");
    const maxQueued = Math.max(...samples.map((c) => c.queue.messages));
    assert.ok(maxQueued <= 150, `its queue held ${maxQueued} messages`);
    const maxLagged = Math.max(...lagged.map((c) => c.queue.messages));
    assert.ok(maxLagged <= KEYS, `lagging, its queue held ${maxLagged} messages`);
    assert.ok(
      Math.max(...lagged.map((c) => c.queue.bytes)) <= KEYS * 700,
      "lagging, its queue held one ~600-byte message per key",
    );
    assert.ok(samples.every((c) => c.inflightBytes <= c.windowBytes + 64 * 1024));
  });
});
