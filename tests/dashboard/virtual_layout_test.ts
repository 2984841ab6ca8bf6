import assert from "node:assert/strict";
import { cardPosition, type GridInput, gridLayout } from "../../lib/dashboard/virtual_layout.ts";

const base: GridInput = {
  count: 1000,
  width: 1000,
  minCardWidth: 240,
  cardHeight: 100,
  gap: 10,
  viewTop: 0,
  viewBottom: 800,
  overscanRows: 1,
  virtualizeAbove: 200,
};

Deno.test("gridLayout mounts every card up to the threshold", () => {
  const l = gridLayout({ ...base, count: 150 });
  assert.deepEqual({ ...l }, {
    columns: 4,
    cardWidth: 242.5,
    height: 38 * 110 - 10,
    first: 0,
    end: 150,
    virtual: false,
  });
});

Deno.test("gridLayout windows past the threshold: rows in view plus overscan", () => {
  const top = gridLayout(base);
  assert.equal(top.virtual, true);
  assert.deepEqual([top.first, top.end], [0, 4 * 9], "8 visible rows + 1 overscan");
  const scrolled = gridLayout({ ...base, viewTop: 5500, viewBottom: 6300 });
  assert.deepEqual([scrolled.first, scrolled.end], [49 * 4, 59 * 4]);
  const bottom = gridLayout({ ...base, viewTop: 27000, viewBottom: 27800 });
  assert.equal(bottom.end, 1000, "never past the last card");
  assert.equal(bottom.height, 250 * 110 - 10);
});

Deno.test("gridLayout keeps one column on narrow screens and cardPosition places cards", () => {
  const narrow = gridLayout({ ...base, count: 3, width: 200 });
  assert.equal(narrow.columns, 1);
  assert.equal(narrow.cardWidth, 200);
  const l = gridLayout({ ...base, count: 10 });
  assert.deepEqual(cardPosition(5, l, 100, 10), { x: 252.5, y: 110 });
});
