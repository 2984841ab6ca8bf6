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

/** A source whose history holds exactly `held`. */
function holey(held: number[]) {
  const out: string[] = [];
  const s: FeedSource = {
    fetch(_topic, from, to) {
      const envelopes = held.filter((seq) => seq >= from && seq <= to).map(env);
      return Promise.resolve({ envelopes, firstSeq: held[0] ?? 0 });
    },
    deliver: (e) => out.push(String(e.seq)),
    gap: (g) => out.push(`gap ${g.fromSeq}-${g.toSeq} ${g.reason}`),
  };
  return { s, out };
}

Deno.test("TopicFeed reports a hole inside the fetched history as a gap and delivers the rest", async () => {
  const { s, out } = holey([1, 2, 4, 5, 8]);
  const feed = new TopicFeed("t", s);
  feed.start(1);
  feed.receive(env(9));
  await settle();
  assert.deepEqual(out, ["2", "gap 3-3 bus_outage", "4", "5", "gap 6-7 bus_outage", "8", "9"]);
  feed.receive(env(10));
  assert.deepEqual(out.at(-1), "10", "live delivery goes on after the holes");
});

Deno.test("TopicFeed gaps a seq that is neither live nor in the history, and goes on", async () => {
  // Seq 2 was taken but never published: the live stream jumps from 1 to 3.
  const { s, out } = holey([1, 3]);
  const feed = new TopicFeed("t", s);
  feed.start(0);
  feed.receive(env(1));
  feed.receive(env(3));
  await settle();
  feed.receive(env(4));
  assert.deepEqual(out, ["1", "gap 2-2 bus_outage", "3", "4"]);
});
