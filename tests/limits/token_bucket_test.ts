import assert from "node:assert/strict";
import { TokenBucket } from "../../lib/limits/token_bucket.ts";
import { KeyedRateLimiter } from "../../lib/limits/keyed_rate_limiter.ts";

Deno.test("TokenBucket allows a burst, then the rate", () => {
  const b = new TokenBucket(10, 3, 0);
  assert.deepEqual([b.take(1, 0), b.take(1, 0), b.take(1, 0), b.take(1, 0)], [
    true,
    true,
    true,
    false,
  ]);
  assert.equal(b.waitMs(1, 0), 100);
  assert.equal(b.take(1, 100), true);
  assert.equal(b.take(1, 100), false);
});

Deno.test("TokenBucket takes several tokens at once or none", () => {
  const b = new TokenBucket(1, 5, 0);
  assert.equal(b.take(4, 0), true);
  assert.equal(b.take(2, 0), false);
  assert.equal(b.take(1, 0), true);
});

Deno.test("TokenBucket rejects a non-positive rate with a RangeError", () => {
  assert.throws(() => new TokenBucket(0), RangeError);
});

Deno.test("KeyedRateLimiter limits each key on its own and stays bounded", () => {
  const limiter = new KeyedRateLimiter(1, 100);
  assert.equal(limiter.take("a", 2, 0), 0);
  assert.ok(limiter.take("a", 1, 0) > 0);
  assert.equal(limiter.take("b", 1, 0), 0);
  for (let i = 0; i < 1000; i++) limiter.take(`k${i}`, 1, 0);
  assert.ok(limiter.size <= 100);
  assert.equal(new KeyedRateLimiter(0).take("x", 1e9), 0, "rate 0 means no limit");
});
