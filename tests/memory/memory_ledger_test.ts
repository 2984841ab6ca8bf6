import assert from "node:assert/strict";
import { MEMORY_HOLDERS, MemoryLedger } from "../../lib/memory/memory_ledger.ts";

Deno.test("MemoryLedger sums its sources by holder", () => {
  const ledger = new MemoryLedger(10_000);
  ledger.register("queues", () => 100);
  ledger.register("queues", () => 50);
  ledger.register("history", () => 7);
  const snap = ledger.update();
  assert.equal(snap.byHolder.queues, 150);
  assert.equal(snap.byHolder.history, 7);
  assert.equal(snap.byHolder.state, 0);
  assert.equal(snap.totalBytes, 157);
  assert.deepEqual(Object.keys(snap.byHolder), [...MEMORY_HOLDERS]);
});

Deno.test("MemoryLedger sheds past 90 %, overloads past 100 %, and stays overloaded until under 90 %", () => {
  let held = 0;
  const ledger = new MemoryLedger(1000);
  ledger.register("state", () => held);
  const at = (n: number) => ((held = n), ledger.update().pressure);
  assert.equal(at(900), "ok");
  assert.equal(at(901), "shedding");
  assert.equal(ledger.excessBytes, 101, "down to 80 %");
  assert.equal(at(1001), "overloaded");
  assert.equal(at(950), "overloaded", "hysteresis");
  assert.equal(at(899), "ok");
  assert.equal(at(950), "shedding");
});

Deno.test("MemoryLedger refuses a budget that is not a positive number", () => {
  for (const bad of [0, -1, NaN]) assert.throws(() => new MemoryLedger(bad), RangeError);
});
