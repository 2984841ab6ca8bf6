import assert from "node:assert/strict";
import type { Envelope } from "../../lib/bus/bus.ts";
import { type FeedSource, TopicFeed } from "../../lib/bus/topic_feed.ts";

const env = (seq: number): Envelope => ({ topic: "t", seq, ts: 0, data: seq });

/** A source whose history holds seqs `firstSeq..` and records what the feed hands out. */
function source(firstSeq: number, options: { failures?: number } = {}) {
  const out: string[] = [];
  let failures = options.failures ?? 0;
  const s: FeedSource = {
    fetch(_topic, from, to) {
      if (failures-- > 0) return Promise.reject(new Error("redis down"));
      const envelopes: Envelope[] = [];
      for (let seq = Math.max(from, firstSeq); seq <= to; seq++) envelopes.push(env(seq));
      return Promise.resolve({ envelopes, firstSeq });
    },
    deliver: (e) => out.push(String(e.seq)),
    gap: (g) => out.push(`gap ${g.fromSeq}-${g.toSeq} ${g.reason}`),
  };
  return { s, out };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("TopicFeed delivers in order and drops what precedes its start", () => {
  const { s, out } = source(1);
  const feed = new TopicFeed("t", s);
  feed.receive(env(5)); // before start: held
  feed.start(5);
  feed.receive(env(6));
  feed.receive(env(6));
  feed.receive(env(7));
  assert.deepEqual(out, ["6", "7"]);
});

Deno.test("TopicFeed fetches skipped seqs from the history before going on", async () => {
  const { s, out } = source(1);
  const feed = new TopicFeed("t", s);
  feed.start(2);
  feed.receive(env(6));
  feed.receive(env(7));
  await settle();
  assert.deepEqual(out, ["3", "4", "5", "6", "7"]);
});

Deno.test("TopicFeed reports seqs the history no longer holds as a bus_outage gap", async () => {
  const { s, out } = source(5);
  const feed = new TopicFeed("t", s);
  feed.start(1);
  feed.receive(env(8));
  await settle();
  assert.deepEqual(out, ["gap 2-4 bus_outage", "5", "6", "7", "8"]);
});

Deno.test("TopicFeed catches up after a reconnect even without new messages", async () => {
  const { s, out } = source(1);
  const feed = new TopicFeed("t", s);
  feed.start(3);
  feed.catchUp(5);
  await settle();
  feed.receive(env(6));
  assert.deepEqual(out, ["4", "5", "6"]);
});

Deno.test("TopicFeed retries a failed fetch and keeps the order", async () => {
  const { s, out } = source(1, { failures: 2 });
  const feed = new TopicFeed("t", s);
  feed.start(0);
  feed.receive(env(3));
  feed.receive(env(4));
  for (let i = 0; i < 40 && out.length < 4; i++) await new Promise((r) => setTimeout(r, 25));
  assert.deepEqual(out, ["1", "2", "3", "4"]);
  feed.stop();
});
