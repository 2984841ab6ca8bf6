import assert from "node:assert/strict";
import { SendQueue } from "../../lib/queue/send_queue.ts";
import { describe } from "../_support/queue_entries.ts";

interface Msg {
  topic: string;
  seq: number;
  key?: string;
  bytes: number;
}

const msg = (topic: string, seq: number, key?: string, bytes = 10): Msg => ({
  topic,
  seq,
  key,
  bytes,
});

Deno.test("SendQueue sends everything in order while within limits", () => {
  const q = new SendQueue<Msg>({ maxMessages: 10 });
  for (let i = 1; i <= 5; i++) q.push(msg("t", i, "k"));
  assert.deepEqual(describe(q.take(1 << 20)), ["t1", "t2", "t3", "t4", "t5"]);
  assert.equal(q.isEmpty, true);
  assert.equal(q.coalescedTotal, 0);
});

Deno.test("SendQueue coalesces by key before dropping when over the message limit", () => {
  const q = new SendQueue<Msg>({ maxMessages: 3 });
  q.push(msg("t", 1, "a"));
  q.push(msg("t", 2, "b"));
  q.push(msg("t", 3, "a"));
  q.push(msg("t", 4, "c")); // over: t1 (superseded by t3) goes first
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-1 coalesced", "t2", "t3", "t4"]);
  assert.equal(q.coalescedTotal, 1);
  assert.equal(q.droppedTotal, 0);
});

Deno.test("SendQueue drops the oldest when nothing can be coalesced", () => {
  const q = new SendQueue<Msg>({ maxMessages: 3 });
  for (let i = 1; i <= 5; i++) q.push(msg("t", i));
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-2 dropped", "t3", "t4", "t5"]);
  assert.equal(q.droppedTotal, 2);
});

Deno.test("SendQueue enforces the byte limit but always keeps the newest message", () => {
  const q = new SendQueue<Msg>({ maxMessages: 100, maxBytes: 100 });
  q.push(msg("t", 1, undefined, 60));
  q.push(msg("t", 2, undefined, 60)); // 120 > 100: t1 dropped
  q.push(msg("t", 3, undefined, 500)); // alone over the limit, but kept
  assert.equal(q.messages, 1);
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-2 dropped", "t3"]);
});

Deno.test("SendQueue places a gap before the next message of its own topic only", () => {
  const q = new SendQueue<Msg>({ maxMessages: 3 });
  q.push(msg("a", 1));
  q.push(msg("b", 1));
  q.push(msg("a", 2));
  q.push(msg("b", 2)); // drops a1
  assert.deepEqual(describe(q.take(1 << 20)), ["b1", "gap a:1-1 dropped", "a2", "b2"]);
});

Deno.test("SendQueue hands out a gap at once when nothing of its topic remains", () => {
  const q = new SendQueue<Msg>({ maxMessages: 1 });
  q.push(msg("a", 1));
  q.push(msg("b", 1)); // drops a1; no a left
  assert.deepEqual(describe(q.take(1 << 20)), ["gap a:1-1 dropped", "b1"]);
  q.push(msg("a", 2));
  assert.deepEqual(describe(q.take(1 << 20)), ["a2"]);
});

Deno.test("SendQueue never drops control frames and keeps them in order", () => {
  const q = new SendQueue<Msg>({ maxMessages: 2 });
  q.push(msg("t", 1));
  q.pushControl("ctl");
  q.push(msg("t", 2));
  q.push(msg("t", 3));
  assert.deepEqual(describe(q.take(1 << 20)), ["control ctl"]);
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-1 dropped", "t2", "t3"]);
});

Deno.test("SendQueue take stops at maxBytes but always returns one message", () => {
  const q = new SendQueue<Msg>();
  for (let i = 1; i <= 4; i++) q.push(msg("t", i, undefined, 40));
  assert.deepEqual(describe(q.take(100)), ["t1", "t2"]);
  assert.deepEqual(describe(q.take(10)), ["t3"]);
  assert.deepEqual(describe(q.take(100)), ["t4"]);
});

Deno.test("SendQueue with coalesce always keeps only the latest per key", () => {
  const q = new SendQueue<Msg>({ coalesce: "always" });
  q.push(msg("t", 1, "a"));
  q.push(msg("t", 2, "a"));
  q.push(msg("t", 3));
  q.push(msg("t", 4, "a"));
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-2 coalesced", "t3", "t4"]);
});

Deno.test("SendQueue merges touching gaps into one range", () => {
  const q = new SendQueue<Msg>({ maxMessages: 2 });
  for (let i = 1; i <= 10; i++) q.push(msg("t", i));
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-8 dropped", "t9", "t10"]);
});

Deno.test("SendQueue pushGap lands after the queued messages of its topic", () => {
  const q = new SendQueue<Msg>();
  q.push(msg("t", 1));
  q.pushGap({ topic: "t", fromSeq: 2, toSeq: 4, reason: "bus_outage" });
  q.push(msg("t", 5));
  assert.deepEqual(describe(q.take(1 << 20)), ["t1", "gap t:2-4 bus_outage", "t5"]);
});

Deno.test("SendQueue health turns slow after staying full past slowTimeoutMs", () => {
  let now = 0;
  const q = new SendQueue<Msg>({ maxMessages: 2, slowTimeoutMs: 1000, now: () => now });
  q.push(msg("t", 1));
  q.push(msg("t", 2));
  assert.equal(q.health(), "ok");
  q.push(msg("t", 3));
  assert.equal(q.health(), "overflowing");
  now = 999;
  assert.equal(q.health(), "overflowing");
  now = 1001;
  assert.equal(q.health(), "slow");
});

Deno.test("SendQueue health recovers when the queue drains below half", () => {
  let now = 0;
  const q = new SendQueue<Msg>({ maxMessages: 2, slowTimeoutMs: 1000, now: () => now });
  for (let i = 1; i <= 3; i++) q.push(msg("t", i));
  assert.equal(q.health(), "overflowing");
  q.take(1 << 20);
  now = 5000;
  assert.equal(q.health(), "ok");
});

Deno.test("SendQueue health turns slow when drops pass dropLimit within the window", () => {
  const now = 0;
  const q = new SendQueue<Msg>({
    maxMessages: 1,
    dropLimit: 5,
    dropWindowMs: 1000,
    slowTimeoutMs: 1e9,
    now: () => now,
  });
  for (let i = 1; i <= 6; i++) q.push(msg("t", i)); // 5 drops
  assert.equal(q.health(), "overflowing");
  q.push(msg("t", 7)); // 6th drop
  assert.equal(q.health(), "slow");
});

Deno.test("SendQueue rejects a non-positive limit with a RangeError", () => {
  assert.throws(() => new SendQueue<Msg>({ maxMessages: 0 }), RangeError);
});

Deno.test("SendQueue stays linear while a stalled reader overflows for long", () => {
  const q = new SendQueue<Msg>({ maxMessages: 100, slowTimeoutMs: 1e12, dropLimit: 1e12 });
  for (let i = 1; i <= 200_000; i++) q.push(msg("t", i, `k${i % 150}`));
  assert.equal(q.messages, 100);
  const msgs = q.take(1 << 30).filter((e) => e.message !== undefined);
  assert.equal(msgs.length, 100);
  assert.equal(msgs.at(-1)?.message?.seq, 200_000);
});

Deno.test("SendQueue eager coalescing keeps only the latest per key while on", () => {
  const q = new SendQueue<Msg>();
  q.push(msg("t", 1, "a"));
  q.push(msg("t", 2, "b"));
  q.push(msg("t", 3, "a"));
  assert.equal(q.setEagerCoalescing(true), 1, "seq 1 is superseded by seq 3");
  q.push(msg("t", 4, "b"));
  q.push(msg("t", 5));
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-2 coalesced", "t3", "t4", "t5"]);
  q.setEagerCoalescing(false);
  q.push(msg("t", 6, "a"));
  q.push(msg("t", 7, "a"));
  assert.deepEqual(describe(q.take(1 << 20)), ["t6", "t7"], "back to sending all");
});

Deno.test("SendQueue.dropStale drops the messages it picks, oldest first, with gaps, keeping the newest", () => {
  const q = new SendQueue<Msg>();
  q.push(msg("t", 1));
  q.push(msg("t", 2, "k"));
  q.pushControl("ctl");
  q.push(msg("u", 1));
  q.push(msg("t", 3));
  assert.equal(q.dropStale((m) => m.key === undefined && !(m.topic === "t" && m.seq === 3)), 2);
  assert.equal(q.droppedTotal, 2);
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-1 dropped", "t2"]);
  assert.deepEqual(describe(q.take(1 << 20)), ["control ctl"]);
  assert.deepEqual(describe(q.take(1 << 20)), ["gap u:1-1 dropped", "t3"]);

  q.push(msg("t", 4));
  assert.equal(q.dropStale(() => true), 0, "the newest message stays");
  assert.deepEqual(describe(q.take(1 << 20)), ["t4"]);
});

Deno.test("SendQueue.oldest is the first message held, past control frames and gaps", () => {
  const q = new SendQueue<Msg>();
  assert.equal(q.oldest(), undefined);
  q.pushControl("ctl");
  q.pushGap({ topic: "t", fromSeq: 1, toSeq: 1, reason: "bus_outage" });
  q.push(msg("t", 2));
  q.push(msg("t", 3));
  assert.equal(q.oldest()?.seq, 2);
  q.take(1 << 20);
  assert.equal(q.oldest()?.seq, 2, "a take stops before the control frame");
  q.take(1 << 20);
  assert.equal(q.oldest(), undefined);
});
