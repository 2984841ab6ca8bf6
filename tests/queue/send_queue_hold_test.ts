/** SendQueue.take around held slots (a chunked message under way), and patches in the ladder. */
import assert from "node:assert/strict";
import type { MessageOp } from "../../lib/protocol/frames.ts";
import { type QueueEntry, SendQueue, type TakeHold } from "../../lib/queue/send_queue.ts";
import { describe } from "../_support/queue_entries.ts";

interface Msg {
  topic: string;
  seq: number;
  key?: string;
  op?: MessageOp;
  bytes: number;
}

const msg = (topic: string, seq: number, bytes = 10, key?: string, op?: MessageOp): Msg => ({
  topic,
  seq,
  key,
  op,
  bytes,
});

const hold = (topics: string[], maxCost = 100): TakeHold => ({ topics: new Set(topics), maxCost });

Deno.test("SendQueue.take with a hold passes other topics and keeps the held topic in order", () => {
  const q = new SendQueue<Msg>();
  q.push(msg("big", 2));
  q.push(msg("small", 1));
  q.push(msg("big", 3));
  q.push(msg("small", 2));
  const h = hold(["big"]);
  assert.deepEqual(describe(q.take(1 << 20, h)), ["small1", "small2"]);
  assert.deepEqual(describe(q.take(1 << 20, h)), []);
  assert.deepEqual(describe(q.take(1 << 20)), ["big2", "big3"], "held slots stay, in order");
});

Deno.test("SendQueue.take with a hold keeps a second large message and everything of its topic", () => {
  const q = new SendQueue<Msg>();
  q.push(msg("a", 1, 5000));
  q.push(msg("b", 1));
  q.push(msg("a", 2));
  q.push(msg("c", 1));
  const h = hold(["x"], 100);
  assert.deepEqual(describe(q.take(1 << 20, h)), ["b1", "c1"]);
  assert.ok(h.topics.has("a"), "the large message's topic joined the hold");
  assert.deepEqual(describe(q.take(1 << 20)), ["a1", "a2"]);
});

Deno.test("SendQueue.take with a hold lets a control frame pass only when nothing is held before it", () => {
  const q = new SendQueue<Msg>();
  q.pushControl("ack");
  q.push(msg("big", 2));
  q.pushControl("pong");
  q.push(msg("other", 1));
  const h = hold(["big"]);
  assert.deepEqual(describe(q.take(1 << 20, h)), ["control ack"]);
  assert.deepEqual(describe(q.take(1 << 20, h)), [], "pong waits behind the held big2");
  assert.deepEqual(describe(q.take(1 << 20)), ["big2"]);
  assert.deepEqual(describe(q.take(1 << 20)), ["control pong"]);
  assert.deepEqual(describe(q.take(1 << 20)), ["other1"]);
});

Deno.test("SendQueue.take counts gap frames towards the frame size", () => {
  const q = new SendQueue<Msg>({ maxMessages: 2 });
  for (let i = 1; i <= 6; i++) q.push(msg(`t${i}`, 1, 10));
  // Each surviving message now carries no gap, but its topic's dropped seqs became gap-only slots.
  const first = q.take(300);
  assert.ok(first.length >= 1);
  const gaps = first.reduce((n, e) => n + (e.gaps?.length ?? 0), 0);
  assert.ok(gaps <= 1, `${gaps} gap frames fit in 300 bytes only one at a time`);
});

Deno.test("SendQueue never coalesces a patch, nor the messages of its key before it", () => {
  const q = new SendQueue<Msg>({ maxMessages: 3 });
  q.push(msg("t", 1, 10, "k"));
  q.push(msg("t", 2, 10, "k", "patch"));
  q.push(msg("t", 3, 10, "k"));
  q.push(msg("t", 4, 10, "j"));
  // Over the limit: nothing is superseded (seq 1 is needed by the patch, the patch by nothing later
  // of its key), so the oldest is dropped.
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:1-1 dropped", "t2", "t3", "t4"]);
  q.push(msg("t", 5, 10, "k"));
  q.push(msg("t", 6, 10, "k"));
  q.push(msg("t", 7, 10, "k"));
  q.push(msg("t", 8, 10, "j"));
  assert.deepEqual(describe(q.take(1 << 20)), ["gap t:5-5 coalesced", "t6", "t7", "t8"]);
});

/** The no-silent-loss property, taking around random holds. */
Deno.test("SendQueue.take with holds delivers every seq once, in order per topic, or as a gap", () => {
  for (let seed = 1; seed <= 200; seed++) {
    let x = seed;
    const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const q = new SendQueue<Msg>({ maxMessages: 8, maxBytes: 4000 });
    const topics = ["a", "b", "c"];
    const next = new Map(topics.map((t) => [t, 1]));
    const seen = new Map(topics.map((t) => [t, 0]));
    const controlsSent: string[] = [];
    const controlsSeen: string[] = [];
    const check = (entries: QueueEntry<Msg>[]) => {
      for (const e of entries) {
        if (e.control !== undefined) controlsSeen.push(e.control as string);
        for (const g of e.gaps ?? []) {
          assert.equal(g.fromSeq, seen.get(g.topic)! + 1, `seed ${seed}: gap out of order`);
          seen.set(g.topic, g.toSeq);
        }
        if (e.message) {
          const { topic, seq } = e.message;
          assert.equal(seq, seen.get(topic)! + 1, `seed ${seed}: ${topic}${seq} out of order`);
          seen.set(topic, seq);
        }
      }
    };
    let current: TakeHold | undefined;
    for (let step = 0; step < 300; step++) {
      const r = rand();
      if (r < 0.55) {
        const topic = topics[Math.floor(rand() * 3)];
        const seq = next.get(topic)!;
        next.set(topic, seq + 1);
        q.push(msg(topic, seq, rand() < 0.1 ? 1500 : 40, rand() < 0.5 ? `k${seq % 3}` : undefined));
      } else if (r < 0.6) {
        const c = `c${step}`;
        controlsSent.push(c);
        q.pushControl(c);
      } else if (r < 0.7) {
        current = rand() < 0.5 ? undefined : hold([topics[Math.floor(rand() * 3)]], 1000);
      } else {
        check(q.take(200 + Math.floor(rand() * 2000), current));
      }
    }
    while (!q.isEmpty) check(q.take(1 << 20));
    for (const t of topics) {
      assert.equal(seen.get(t), next.get(t)! - 1, `seed ${seed}: ${t} lost seqs`);
    }
    assert.deepEqual(controlsSeen, controlsSent, `seed ${seed}: control frames lost or reordered`);
  }
});
