import assert from "node:assert/strict";
import { SequenceChecker } from "../../lib/load/sequence_checker.ts";

Deno.test("SequenceChecker counts in-order messages and gaps as settled", () => {
  const c = new SequenceChecker(10);
  c.message(11);
  c.gap(12, 14);
  c.message(15);
  c.finish(15);
  assert.deepEqual(c.counts(), {
    delivered: 2,
    gapped: 3,
    missing: 0,
    duplicates: 0,
    outOfOrder: 0,
    undelivered: 0,
  });
});

Deno.test("SequenceChecker counts a skipped seq as missing until it arrives late", () => {
  const c = new SequenceChecker(0);
  c.message(1);
  c.message(4); // 2 and 3 skipped without a gap
  assert.equal(c.counts().missing, 2);
  c.message(3); // late
  assert.deepEqual(c.counts(), {
    delivered: 3,
    gapped: 0,
    missing: 1,
    duplicates: 0,
    outOfOrder: 1,
    undelivered: 0,
  });
});

Deno.test("SequenceChecker counts repeats and gaps over delivered seqs as duplicates", () => {
  const c = new SequenceChecker(0);
  c.message(1);
  c.message(2);
  c.message(2);
  c.message(1);
  c.gap(2, 4); // seq 2 was delivered already
  assert.deepEqual(c.counts(), {
    delivered: 2,
    gapped: 2,
    missing: 0,
    duplicates: 3,
    outOfOrder: 0,
    undelivered: 0,
  });
});

Deno.test("SequenceChecker counts seqs after the last received at finish as undelivered", () => {
  const c = new SequenceChecker(0);
  c.message(1);
  c.gap(3, 3); // 2 skipped silently
  c.finish(7);
  assert.deepEqual(c.counts(), {
    delivered: 1,
    gapped: 1,
    missing: 1,
    duplicates: 0,
    outOfOrder: 0,
    undelivered: 4,
  });
});

Deno.test("SequenceChecker resync treats seqs before a new snapshot as missing, not later ones", () => {
  const c = new SequenceChecker(0);
  c.message(1);
  c.resync(5); // a resume that skipped 2..5 without a gap
  c.message(6);
  assert.equal(c.counts().missing, 4);
  assert.equal(c.next, 7);
});
