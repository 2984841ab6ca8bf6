import assert from "node:assert/strict";
import { LagMeter } from "../../lib/dashboard/lag_meter.ts";

Deno.test("LagMeter reports percentiles of publish-to-render times", () => {
  const lag = new LagMeter(1000);
  assert.deepEqual(lag.snapshot(), { total: 0, count: 0, p50: 0, p95: 0, p99: 0, max: 0, last: 0 });
  for (let i = 1; i <= 100; i++) lag.record(1000, 1000 + i);
  assert.deepEqual(lag.snapshot(), {
    total: 100,
    count: 100,
    p50: 50,
    p95: 95,
    p99: 99,
    max: 100,
    last: 100,
  });
});

Deno.test("LagMeter keeps only the latest samples and clamps clock skew at zero", () => {
  const lag = new LagMeter(10);
  for (let i = 0; i < 10; i++) lag.record(0, 1000);
  for (let i = 0; i < 10; i++) lag.record(0, 5);
  lag.record(100, 90); // rendered "before" it was published: the clocks disagree
  const s = lag.snapshot();
  assert.equal(s.total, 21);
  assert.equal(s.count, 10);
  assert.equal(s.max, 5, "the old 1000 ms samples were overwritten");
  assert.equal(s.last, 0);
  assert.throws(() => new LagMeter(0), RangeError);
});
