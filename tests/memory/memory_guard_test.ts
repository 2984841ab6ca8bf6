import assert from "node:assert/strict";
import { checkMemory } from "../../lib/memory/memory_guard.ts";
import { MemoryLedger } from "../../lib/memory/memory_ledger.ts";

Deno.test("checkMemory asks the shedder for what brings the total back to 80 %, only past 90 %", () => {
  let queued = 850;
  const asked: number[] = [];
  const ledger = new MemoryLedger(1000);
  ledger.register("queues", () => queued);
  const shedder = {
    shed(bytes: number) {
      asked.push(bytes);
      queued -= bytes;
      return bytes;
    },
  };
  assert.equal(checkMemory(ledger, shedder), "ok");
  assert.deepEqual(asked, []);
  queued = 960;
  assert.equal(checkMemory(ledger, shedder), "ok", "shed down to 800");
  assert.deepEqual(asked, [160]);
  assert.equal(ledger.last.totalBytes, 800);
});

Deno.test("checkMemory reports overloaded when what is held cannot be shed", () => {
  const ledger = new MemoryLedger(1000);
  ledger.register("state", () => 1200);
  assert.equal(checkMemory(ledger, { shed: () => 0 }), "overloaded");
});
