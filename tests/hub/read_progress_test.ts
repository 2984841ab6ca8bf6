import assert from "node:assert/strict";
import { BufferedProgress, PingLedger } from "../../lib/hub/read_progress.ts";
import { ReadWindow } from "../../lib/hub/read_window.ts";

function ledger() {
  const probes: number[] = [];
  const l = new PingLedger({
    kind: "wire-ping",
    probe: (offset) => probes.push(offset),
    window: new ReadWindow({ maxBytes: 1 << 20, maxLagMs: 3000 }),
    openedAt: 0,
  });
  return { l, probes };
}

Deno.test("PingLedger: one answer confirms every probe up to its offset", () => {
  const { l, probes } = ledger();
  l.wrote(5000, () => 1);
  l.wrote(5000, () => 2);
  l.wrote(5000, () => 3);
  assert.deepEqual(probes, [5000, 10_000, 15_000]);
  assert.equal(l.unansweredSince, 1);
  assert.equal(l.answered(15_000, 4), true, "RFC 6455 lets a peer answer only the latest ping");
  assert.equal(l.inflightBytes, 0);
  assert.equal(l.unansweredSince, undefined);
  assert.equal(l.progressAt, 4);
});

Deno.test("PingLedger: a late answer refuses offsets it never sent and keeps older ones pending", () => {
  const { l } = ledger();
  l.wrote(5000, () => 0);
  l.wrote(5000, () => 0);
  assert.equal(l.answered(20_000, 1), false);
  assert.equal(l.answered(5000, 1), true);
  assert.equal(l.inflightBytes, 5000);
  assert.equal(l.unansweredSince, 0, "the probe at 10000 still waits");
});

Deno.test("PingLedger.tick probes every heartbeat when idle, and sooner while data flows", () => {
  const { l, probes } = ledger();
  l.tick(14_999, 15_000, 1000);
  assert.deepEqual(probes, []);
  l.tick(15_000, 15_000, 1000);
  assert.deepEqual(probes, [0]);
  l.wrote(100, () => 15_100);
  l.tick(15_500, 15_000, 1000);
  assert.deepEqual(probes, [0], "not before busyMs");
  l.tick(16_000, 15_000, 1000);
  assert.deepEqual(probes, [0, 100]);
});

Deno.test("BufferedProgress: waiting since the engine's unsent bytes last fell", () => {
  const socket = { bufferedAmount: 0 };
  const p = new BufferedProgress(socket, 1 << 20);
  p.wrote(1000);
  p.tick(10);
  assert.equal(p.progressAt, 10, "bytes written and none left unsent: the kernel took them");
  assert.equal(p.unansweredSince, undefined);
  socket.bufferedAmount = 5000;
  p.tick(20);
  p.tick(30);
  assert.equal(p.unansweredSince, 20);
  socket.bufferedAmount = 4000;
  p.tick(40);
  assert.equal(p.unansweredSince, 40);
  assert.equal(p.progressAt, 40);
  assert.equal(p.inflightBytes, 4000);
  assert.equal(p.answered(), false, "nothing to answer");
});
