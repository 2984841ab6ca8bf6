import assert from "node:assert/strict";
import { Emitter } from "../../lib/client/emitter.ts";
import type { ClientEvents, GapEvent, Message } from "../../lib/client/events.ts";
import { type FetchedState, TopicSync } from "../../lib/client/topic_sync.ts";
import type { GapFrame, GapReason } from "../../lib/protocol/frames.ts";

interface Harness {
  sync: TopicSync;
  events: Emitter<ClientEvents>;
  gaps: GapEvent[];
  received: Message[];
  fetches: { resolve(s: FetchedState): void; reject(e: Error): void }[];
  epoch: { value: string };
}

function harness(refetchOnGap = true): Harness {
  const events = new Emitter<ClientEvents>();
  const gaps: GapEvent[] = [];
  const received: Message[] = [];
  const fetches: Harness["fetches"] = [];
  const epoch = { value: "e1" };
  events.on("gap", (g) => gaps.push(g));
  const sync = new TopicSync("sessions", {
    events,
    refetchOnGap,
    fetchState: () => new Promise((resolve, reject) => fetches.push({ resolve, reject })),
    epoch: () => epoch.value,
  });
  sync.handlers.add((m) => received.push(m));
  return { sync, events, gaps, received, fetches, epoch };
}

function msg(
  seq: number,
  key?: string,
  data: unknown = seq,
  extra: Partial<Message> = {},
): Message {
  return { type: "message", topic: "sessions", seq, ts: seq, data, ...(key && { key }), ...extra };
}

function gap(fromSeq: number, toSeq: number, reason: GapReason): GapFrame {
  return { type: "gap", topic: "sessions", fromSeq, toSeq, reason };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("TopicSync skips duplicates and reports seq jumps as missing gaps", () => {
  const h = harness();
  h.sync.subscribed(0);
  for (const seq of [1, 2, 2, 1, 5]) h.sync.message(msg(seq));
  assert.deepEqual(h.received.map((m) => m.seq), [1, 2, 5]);
  assert.equal(h.sync.duplicates, 2);
  assert.deepEqual(h.gaps, [{
    topic: "sessions",
    fromSeq: 3,
    toSeq: 4,
    reason: "missing",
    refetch: false,
  }]);
  assert.equal(h.sync.lastSeq, 5);
});

Deno.test("TopicSync refetches a keyed topic after a live gap and re-applies newer messages", async () => {
  const h = harness();
  h.sync.subscribed(0);
  h.sync.message(msg(1, "a", { v: 1 }));
  h.sync.gapFrame(gap(2, 4, "dropped"));
  assert.equal(h.gaps[0].refetch, true);
  assert.equal(h.sync.state.stale, true);
  assert.equal(h.fetches.length, 1, "one refetch started");
  h.sync.message(msg(5, "b", { v: 5 })); // arrives while the refetch is in flight
  h.sync.message(msg(6, "a", { v: 6 }));
  const resyncs: number[] = [];
  h.events.on("resync", (r) => resyncs.push(r.seq));
  h.fetches[0].resolve({ epoch: "e1", seq: 5, state: { a: { v: 3 }, b: { v: 5 }, c: { v: 4 } } });
  await tick();
  assert.deepEqual(h.sync.state.toObject(), { a: { v: 6 }, b: { v: 5 }, c: { v: 4 } });
  assert.equal(h.sync.state.stale, false);
  assert.deepEqual(resyncs, [5]);
});

Deno.test("TopicSync does not refetch for coalesced gaps unless the topic carries patches", () => {
  const h = harness();
  h.sync.subscribed(0);
  h.sync.message(msg(1, "a"));
  h.sync.gapFrame(gap(2, 2, "coalesced"));
  assert.equal(h.fetches.length, 0);
  assert.equal(h.gaps[0].refetch, false);
  h.sync.message(msg(3, "a", { x: 1 }, { op: "patch" }));
  h.sync.gapFrame(gap(4, 4, "coalesced"));
  assert.equal(h.fetches.length, 1, "a coalesced patch may have carried fields");
});

Deno.test("TopicSync leaves non-keyed topics alone on gaps and honours refetchOnGap false", () => {
  const plain = harness();
  plain.sync.subscribed(0);
  plain.sync.message(msg(1));
  plain.sync.gapFrame(gap(2, 3, "dropped"));
  assert.equal(plain.fetches.length, 0);
  const off = harness(false);
  off.sync.subscribed(0);
  off.sync.message(msg(1, "k"));
  off.sync.gapFrame(gap(2, 3, "dropped"));
  assert.equal(off.fetches.length, 0);
  assert.equal(off.sync.state.stale, true, "the app can still see the store is stale");
});

Deno.test("TopicSync waits for the resume's snapshot instead of refetching", () => {
  const h = harness();
  h.sync.subscribed(0);
  h.sync.message(msg(1, "a"));
  h.sync.beginRound(false);
  h.sync.gapFrame(gap(2, 9, "history_exceeded"));
  h.sync.snapshot({ type: "snapshot", topic: "sessions", seq: 9, state: { a: 9, b: 8 } });
  h.sync.subscribed(9);
  assert.equal(h.fetches.length, 0);
  assert.deepEqual(h.sync.state.toObject(), { a: 9, b: 8 });
  assert.equal(h.sync.lastSeq, 9);
});

Deno.test("TopicSync refetches at subscribed when a resume gap came without a snapshot", () => {
  const h = harness();
  h.sync.subscribed(0);
  h.sync.message(msg(1, "a"));
  h.sync.beginRound(false);
  h.sync.gapFrame(gap(2, 3, "history_exceeded"));
  assert.equal(h.fetches.length, 0, "not before subscribed");
  h.sync.subscribed(3);
  assert.equal(h.fetches.length, 1);
});

Deno.test("TopicSync restarts seqs on an epoch change and ignores a refetch from the old epoch", async () => {
  const h = harness();
  h.sync.subscribed(0);
  for (let s = 1; s <= 50; s++) h.sync.message(msg(s, `k${s % 3}`));
  h.sync.gapFrame(gap(51, 51, "dropped"));
  h.epoch.value = "e2";
  h.sync.beginRound(true);
  assert.equal(h.sync.lastSeq, 0);
  h.fetches[0].resolve({ epoch: "e1", seq: 51, state: { old: 1 } });
  await tick();
  assert.equal(h.sync.state.has("old"), false, "the old epoch's answer was dropped");
  h.sync.gapFrame(gap(1, 2, "epoch_changed"));
  h.sync.snapshot({ type: "snapshot", topic: "sessions", seq: 2, state: { fresh: true } });
  h.sync.subscribed(2);
  h.sync.message(msg(3, "fresh", false));
  assert.deepEqual(h.sync.state.toObject(), { fresh: false });
  assert.equal(h.received.at(-1)?.seq, 3, "a low seq of the new epoch is not a duplicate");
});

Deno.test("TopicSync reports a jump at subscribed as a missing gap", () => {
  const h = harness();
  h.sync.subscribed(0);
  h.sync.message(msg(1));
  h.sync.beginRound(false);
  h.sync.subscribed(4);
  assert.deepEqual(h.gaps.map((g) => [g.fromSeq, g.toSeq, g.reason]), [[2, 4, "missing"]]);
});
