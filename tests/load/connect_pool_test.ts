import assert from "node:assert/strict";
import { connectAll } from "../../lib/load/connect_pool.ts";

Deno.test("connectAll keeps at most `concurrency` connects pending and counts failures", async () => {
  let pending = 0, most = 0;
  const out = await connectAll(20, 4, async (i) => {
    pending++;
    most = Math.max(most, pending);
    await new Promise((r) => setTimeout(r, 2));
    pending--;
    if (i % 5 === 0) throw new Error(`refused ${i}`);
    return i;
  }, 100);
  assert.equal(most, 4);
  assert.equal(out.failed, 4);
  assert.equal(out.firstError, "refused 100");
  assert.deepEqual(out.opened.sort((a, b) => a - b), [
    101,
    102,
    103,
    104,
    106,
    107,
    108,
    109,
    111,
    112,
    113,
    114,
    116,
    117,
    118,
    119,
  ]);
});
