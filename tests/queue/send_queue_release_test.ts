/**
 * SendQueue retains only what it accounts: messages taken, coalesced or
 * dropped are let go at once, not when compaction reaches their slots.
 * Run with --v8-flags=--expose-gc (as `deno task test` does).
 */
import assert from "node:assert/strict";
import { type QueuedMessage, SendQueue } from "../../lib/queue/send_queue.ts";

const gc = (globalThis as { gc?: () => void }).gc;

interface Payload extends QueuedMessage {
  blob: Uint8Array;
}

/** Pushes `n` messages through `q`, keeping only weak references to them. */
function churn(q: SendQueue<Payload>, n: number, key: (i: number) => string | undefined) {
  const refs: WeakRef<Payload>[] = [];
  for (let i = 0; i < n; i++) {
    const m: Payload = {
      topic: "t",
      seq: i + 1,
      key: key(i),
      bytes: 10_000,
      blob: new Uint8Array(10_000),
    };
    refs.push(new WeakRef(m));
    q.push(m);
    if (i % 3 === 0) q.take(20_000); // a reader that takes a little now and then
  }
  return refs;
}

async function alive(refs: WeakRef<Payload>[]): Promise<number> {
  await new Promise((r) => setTimeout(r, 0));
  gc!();
  return refs.filter((r) => r.deref() !== undefined).length;
}

Deno.test({
  name:
    "SendQueue lets go of coalesced and dropped messages at once (run with --v8-flags=--expose-gc)",
  ignore: gc === undefined,
  async fn() {
    const q = new SendQueue<Payload>({ maxMessages: 50, maxBytes: 1 << 30 });
    const refs = churn(q, 5000, (i) => `k${i % 20}`);
    const held = await alive(refs);
    assert.ok(q.messages <= 50);
    assert.ok(held <= q.messages + 1, `${held} messages still referenced, ${q.messages} queued`);
  },
});

Deno.test({
  name: "SendQueue lets go of taken messages before compaction (run with --v8-flags=--expose-gc)",
  ignore: gc === undefined,
  async fn() {
    const q = new SendQueue<Payload>({ maxMessages: 2000, maxBytes: 1 << 30 });
    const refs = churn(q, 900, () => undefined); // under 1024 slots: compaction never runs
    const held = await alive(refs);
    assert.ok(held <= q.messages + 1, `${held} messages still referenced, ${q.messages} queued`);
  },
});
