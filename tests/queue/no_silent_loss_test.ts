/**
 * Property test of the no-silent-loss invariant: under random pushes, takes,
 * limits, coalescing (on overflow, always, or switched on while the reader
 * lags), dropping stale messages and outside gaps, what a reader takes from a SendQueue
 * covers, per topic, every seq exactly once and in order, as delivered
 * messages or gap ranges; and control frames all arrive, in order.
 */
import assert from "node:assert/strict";
import { SendQueue } from "../../lib/queue/send_queue.ts";
import { seededRandom } from "../_support/prng.ts";

interface Msg {
  topic: string;
  seq: number;
  key?: string;
  bytes: number;
}

function runScenario(seed: number): { delivered: number; gapped: number } {
  const rand = seededRandom(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const maxMessages = 1 + int(20);
  const q = new SendQueue<Msg>({
    maxMessages,
    maxBytes: 50 + int(500),
    coalesce: rand() < 0.3 ? "always" : "overflow",
    slowTimeoutMs: Infinity,
    dropLimit: Infinity,
  });
  const topics = ["a", "b", "c"].slice(0, 1 + int(3));
  const lastSeq = new Map<string, number>();
  const next = new Map<string, number>(topics.map((t) => [t, 1]));
  const controlsSent: string[] = [];
  const controlsSeen: (string | Uint8Array)[] = [];
  let delivered = 0;
  let gapped = 0;

  const consume = (maxBytes: number) => {
    for (const entry of q.take(maxBytes)) {
      if (entry.control !== undefined) {
        controlsSeen.push(entry.control);
        continue;
      }
      for (const gap of entry.gaps ?? []) {
        const expected = next.get(gap.topic)!;
        assert.equal(
          gap.fromSeq,
          expected,
          `seed ${seed}: ${gap.topic} gap does not start at ${expected}`,
        );
        assert.ok(gap.toSeq >= gap.fromSeq, `seed ${seed}: empty gap`);
        next.set(gap.topic, gap.toSeq + 1);
        gapped += gap.toSeq - gap.fromSeq + 1;
      }
      const m = entry.message;
      if (m) {
        const expected = next.get(m.topic)!;
        assert.equal(m.seq, expected, `seed ${seed}: ${m.topic} message out of order`);
        next.set(m.topic, expected + 1);
        delivered++;
      }
    }
  };

  const steps = 50 + int(400);
  for (let step = 0; step < steps; step++) {
    const r = rand();
    const topic = topics[int(topics.length)];
    if (r < 0.6) {
      const seq = (lastSeq.get(topic) ?? 0) + 1;
      lastSeq.set(topic, seq);
      const key = rand() < 0.7 ? `k${int(4)}` : undefined;
      q.push({ topic, seq, key, bytes: 1 + int(80) });
      assert.ok(
        q.messages <= maxMessages || q.messages === 1,
        `seed ${seed}: ${q.messages} messages held, limit ${maxMessages}`,
      );
    } else if (r < 0.65) {
      const from = (lastSeq.get(topic) ?? 0) + 1;
      const to = from + int(3);
      lastSeq.set(topic, to);
      q.pushGap({ topic, fromSeq: from, toSeq: to, reason: "bus_outage" });
    } else if (r < 0.7) {
      const frame = `ctl${step}`;
      controlsSent.push(frame);
      q.pushControl(frame);
    } else if (r < 0.73) {
      q.setEagerCoalescing(rand() < 0.5); // the reader falls behind, or catches up
    } else if (r < 0.75) {
      const topic = topics[int(topics.length)]; // messages too old for a lagging reader
      q.dropStale((m) => m.topic === topic && m.key === undefined && rand() < 0.7);
    } else {
      consume(1 + int(200));
    }
  }
  while (!q.isEmpty) consume(1 + int(200));

  for (const topic of topics) {
    assert.equal(
      next.get(topic),
      (lastSeq.get(topic) ?? 0) + 1,
      `seed ${seed}: topic ${topic} is missing seqs after ${next.get(topic)! - 1} without a gap`,
    );
  }
  assert.deepEqual(controlsSeen, controlsSent, `seed ${seed}: control frames lost or reordered`);
  assert.equal(q.bytes, 0, `seed ${seed}: byte accounting leaked`);
  return { delivered, gapped };
}

Deno.test("SendQueue never loses a seq silently under random drops and coalescing", () => {
  let delivered = 0;
  let gapped = 0;
  for (let seed = 1; seed <= 2000; seed++) {
    const r = runScenario(seed);
    delivered += r.delivered;
    gapped += r.gapped;
  }
  // The scenarios must exercise both paths, or the property says nothing.
  assert.ok(delivered > 10_000, `only ${delivered} messages delivered`);
  assert.ok(gapped > 10_000, `only ${gapped} seqs reported as gaps`);
});
