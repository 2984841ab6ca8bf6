import assert from "node:assert/strict";
import { ReadWindow } from "../../lib/hub/read_window.ts";

const MiB = 1 << 20;

Deno.test("ReadWindow starts small, within its bounds", () => {
  assert.equal(new ReadWindow({ maxBytes: MiB, maxLagMs: 3000 }).bytes, 16 << 10);
  assert.equal(new ReadWindow({ maxBytes: 8 << 10, maxLagMs: 3000 }).bytes, 8 << 10);
  assert.equal(new ReadWindow({ maxBytes: 2048, maxLagMs: 3000 }).bytes, 2048, "never over max");
  const w = new ReadWindow({ maxBytes: MiB, maxLagMs: 3000, initialBytes: 1 });
  assert.equal(w.bytes, 4 << 10, "never under the floor");
});

Deno.test("ReadWindow opens fully for a client that answers within a round trip", () => {
  const w = new ReadWindow({ maxBytes: MiB, maxLagMs: 3000 });
  w.answered(16_000, 3);
  assert.equal(w.bytes, MiB);
  w.answered(200, 500); // little was in flight: a lower bound that does not shrink it
  assert.equal(w.bytes, MiB);
});

Deno.test("ReadWindow sizes itself to what a backlogged reader reads in half of maxLag", () => {
  const w = new ReadWindow({ maxBytes: MiB, maxLagMs: 3000 });
  w.answered(100_000, 2000); // 50 KB/s
  assert.equal(w.bytes, 75_000);
  w.answered(100_000, 1000); // it sped up: 100 KB/s
  assert.equal(w.bytes, 150_000);
  w.answered(10, 5000); // nothing ahead worth measuring still counts, down to the floor
  assert.equal(w.bytes, 4 << 10);
});

Deno.test("ReadWindow shrinks while a ping waits, before any answer", () => {
  const w = new ReadWindow({ maxBytes: MiB, maxLagMs: 3000 });
  w.answered(16_000, 2); // it keeps up, for now
  w.waiting(200_000, 700); // within a quarter of maxLag: no verdict yet
  assert.equal(w.bytes, MiB);
  w.waiting(200_000, 2000); // under 100 KB/s
  assert.equal(w.bytes, 150_000);
  w.waiting(200_000, 1000); // never grows while waiting
  assert.equal(w.bytes, 150_000);
  w.waiting(0, 60_000); // nothing was ahead of it: no information
  assert.equal(w.bytes, 150_000);
});

Deno.test("ReadWindow rejects a window or lag that is not positive", () => {
  assert.throws(() => new ReadWindow({ maxBytes: 0, maxLagMs: 3000 }), RangeError);
  assert.throws(() => new ReadWindow({ maxBytes: MiB, maxLagMs: -1 }), RangeError);
});
