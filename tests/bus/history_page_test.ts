import assert from "node:assert/strict";
import type { Envelope, HistoryPage } from "../../lib/bus/bus.ts";
import { contiguousPage } from "../../lib/bus/history_page.ts";

const page = (seqs: number[], firstSeq: number, lastSeq: number): HistoryPage => ({
  envelopes: seqs.map((seq): Envelope => ({ topic: "t", seq, ts: 0, data: seq })),
  firstSeq,
  lastSeq,
});
const summary = (p: HistoryPage) => ({
  seqs: p.envelopes.map((e) => e.seq),
  firstSeq: p.firstSeq,
  lastSeq: p.lastSeq,
});

Deno.test("contiguousPage leaves a page without holes as it is", () => {
  assert.deepEqual(summary(contiguousPage(2, page([3, 4, 5], 1, 5))), {
    seqs: [3, 4, 5],
    firstSeq: 1,
    lastSeq: 5,
  });
  assert.deepEqual(summary(contiguousPage(0, page([4, 5], 4, 5))), {
    seqs: [4, 5],
    firstSeq: 4,
    lastSeq: 5,
  }, "trimmed history: firstSeq already says where it starts");
  assert.deepEqual(summary(contiguousPage(5, page([], 1, 5))), {
    seqs: [],
    firstSeq: 1,
    lastSeq: 5,
  });
  assert.deepEqual(summary(contiguousPage(0, page([], 0, 0))), {
    seqs: [],
    firstSeq: 0,
    lastSeq: 0,
  });
});

Deno.test("contiguousPage moves firstSeq past a hole right after afterSeq", () => {
  // Seq 2 was taken but never stored: readers must see it as gone (a gap), then get 3 and 4.
  assert.deepEqual(summary(contiguousPage(1, page([3, 4], 1, 4))), {
    seqs: [3, 4],
    firstSeq: 3,
    lastSeq: 4,
  });
});

Deno.test("contiguousPage ends the page before a hole further on", () => {
  assert.deepEqual(summary(contiguousPage(0, page([1, 2, 4, 5], 1, 5))), {
    seqs: [1, 2],
    firstSeq: 1,
    lastSeq: 5,
  });
  // The next read starts at the hole.
  assert.equal(contiguousPage(2, page([4, 5], 1, 5)).firstSeq, 4);
});

Deno.test("contiguousPage reports missing last seqs with firstSeq past lastSeq", () => {
  // Seqs 4 and 5 were taken but are nowhere: a reader at 3 would otherwise ask again forever.
  assert.deepEqual(summary(contiguousPage(3, page([], 1, 5))), {
    seqs: [],
    firstSeq: 6,
    lastSeq: 5,
  });
});
