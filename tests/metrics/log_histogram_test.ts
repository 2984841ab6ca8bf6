import assert from "node:assert/strict";
import { LogHistogram } from "../../lib/metrics/log_histogram.ts";
import { seededRandom } from "../_support/prng.ts";

Deno.test("LogHistogram percentiles are within 1 % of the exact ones over six decades", () => {
  const rand = seededRandom(7);
  const values = Array.from({ length: 50_000 }, () => Math.floor(10 ** (rand() * 6)));
  const h = new LogHistogram();
  for (const v of values) h.recordValue(v);
  const sorted = [...values].sort((a, b) => a - b);
  for (const p of [1, 50, 90, 95, 99, 99.9, 100]) {
    const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1];
    const got = h.getValueAtPercentile(p);
    assert.ok(got >= exact, `p${p}: ${got} below the exact ${exact}`);
    assert.ok(got <= exact * 1.01 + 1, `p${p}: ${got} more than 1 % above ${exact}`);
  }
  assert.equal(h.maxValue, sorted.at(-1));
  assert.equal(h.totalCount, values.length);
});

Deno.test("LogHistogram.add merges counts and max; reset empties; small values are exact", () => {
  const a = new LogHistogram();
  const b = new LogHistogram();
  for (let v = 0; v < 100; v++) a.recordValue(v);
  b.recordValue(5_000_000);
  a.add(b);
  assert.equal(a.totalCount, 101);
  assert.equal(a.maxValue, 5_000_000);
  assert.equal(a.getValueAtPercentile(50), 50);
  assert.equal(a.getValueAtPercentile(100), 5_000_000);
  a.reset();
  assert.equal(a.totalCount, 0);
  assert.equal(a.getValueAtPercentile(99), 0);
  a.recordValue(2 ** 40);
  assert.equal(a.maxValue, 2 ** 32 - 1, "clamped, not lost");
});
