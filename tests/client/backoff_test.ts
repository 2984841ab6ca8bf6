import assert from "node:assert/strict";
import { backoffDelay } from "../../lib/client/backoff.ts";

Deno.test("backoffDelay doubles from the initial delay up to the cap", () => {
  const noJitter = { jitter: 0 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 10, 50].map((n) => backoffDelay(n, noJitter)),
    [250, 500, 1000, 2000, 4000, 30000, 30000],
  );
  assert.equal(
    backoffDelay(2, { initialDelayMs: 100, factor: 3, maxDelayMs: 500, jitter: 0 }),
    500,
  );
});

Deno.test("backoffDelay jitter spreads delays within [base × (1 − jitter), base]", () => {
  assert.equal(backoffDelay(3, {}, () => 0), 2000);
  assert.equal(backoffDelay(3, {}, () => 1), 1000);
  assert.equal(backoffDelay(3, { jitter: 1 }, () => 0.25), 1500);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, {})));
  assert.ok(spread.size > 10, "random delays differ");
  for (const d of spread) assert.ok(d >= 2000 && d <= 4000, `${d} in range`);
});

Deno.test("backoffDelay rejects options out of range", () => {
  assert.throws(() => backoffDelay(0, { jitter: 2 }), RangeError);
  assert.throws(() => backoffDelay(0, { factor: 0.5 }), RangeError);
  assert.throws(() => backoffDelay(0, { initialDelayMs: 10, maxDelayMs: 5 }), RangeError);
});
