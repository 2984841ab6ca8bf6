import assert from "node:assert/strict";
import { LatencyHistogram } from "../../lib/load/latency_histogram.ts";

Deno.test("LatencyHistogram reports percentiles of known values within its precision", () => {
  const h = new LatencyHistogram();
  for (let ms = 1; ms <= 1000; ms++) h.record(ms);
  const s = h.summary();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50 - 500) <= 0.5, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 990) <= 1, `p99 ${s.p99}`);
  assert.ok(Math.abs(s.p999 - 999) <= 1, `p99.9 ${s.p999}`);
  assert.equal(s.max, 1000);
  assert.ok(Math.abs(s.mean - 500.5) < 0.5);
});

Deno.test("LatencyHistogram never reports a percentile above the highest value", () => {
  const h = new LatencyHistogram({ significantDigits: 2 });
  h.record(8877.3);
  const s = h.summary();
  assert.equal(s.max, 8877.3);
  assert.ok(s.p99 <= s.max && s.p50 <= s.max);
  assert.ok(s.p99 >= 8877.3 * 0.99, "within 1 % (2 significant digits)");
});

Deno.test("LatencyHistogram adds histograms and survives encode/decode", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram({ significantDigits: 2 });
  a.record(1.5);
  b.record(100);
  a.add(b);
  const back = LatencyHistogram.decode(a.encode());
  assert.equal(back.count, 2);
  const max = back.summary().max;
  assert.ok(Math.abs(max - 100) <= 1, `max ${max}: within the 2-digit histogram's 1 %`);
  assert.equal(new LatencyHistogram().summary().p99, 0, "empty histograms report zeros");
});
