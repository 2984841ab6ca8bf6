/**
 * The geometry of the card grid: how many columns fit, where each card goes,
 * and, past a threshold, which cards are in (or near) the viewport so that only
 * those are in the DOM.
 *
 * @module
 */

/** Inputs of {@linkcode gridLayout}. */
export interface GridInput {
  /** Number of cards. */
  count: number;
  /** Width of the grid in px. */
  width: number;
  /** Smallest card width in px. */
  minCardWidth: number;
  /** Card height in px (every card has the same). */
  cardHeight: number;
  /** Space between cards in px. */
  gap: number;
  /** Viewport top and bottom, in px relative to the grid's top. */
  viewTop: number;
  viewBottom: number;
  /** Extra rows rendered above and below the viewport. */
  overscanRows: number;
  /** Mount every card while there are at most this many. */
  virtualizeAbove: number;
}

/** Where cards go. */
export interface GridLayout {
  columns: number;
  cardWidth: number;
  /** Total grid height in px. */
  height: number;
  /** Index range of mounted cards: `[first, end)`. */
  first: number;
  end: number;
  /** True when only part of the cards is mounted. */
  virtual: boolean;
}

/**
 * Computes the grid.
 *
 * @example
 * ```ts
 * import { gridLayout } from "./virtual_layout.ts";
 * const l = gridLayout({
 *   count: 1000, width: 1000, minCardWidth: 240, cardHeight: 100, gap: 10,
 *   viewTop: 0, viewBottom: 800, overscanRows: 1, virtualizeAbove: 200,
 * });
 * // 4 columns; rows 0..7 visible plus one of overscan: cards 0..35 mounted
 * ```
 */
export function gridLayout(g: GridInput): GridLayout {
  const columns = Math.max(1, Math.floor((g.width + g.gap) / (g.minCardWidth + g.gap)));
  const cardWidth = Math.max(0, (g.width - (columns - 1) * g.gap) / columns);
  const rows = Math.ceil(g.count / columns);
  const rowHeight = g.cardHeight + g.gap;
  const height = Math.max(0, rows * rowHeight - g.gap);
  if (g.count <= g.virtualizeAbove) {
    return { columns, cardWidth, height, first: 0, end: g.count, virtual: false };
  }
  const firstRow = Math.max(0, Math.floor(g.viewTop / rowHeight) - g.overscanRows);
  const endRow = Math.min(rows, Math.ceil(g.viewBottom / rowHeight) + g.overscanRows);
  const first = Math.min(g.count, firstRow * columns);
  const end = Math.max(first, Math.min(g.count, endRow * columns));
  return { columns, cardWidth, height, first, end, virtual: true };
}

/** The top-left corner of card `index`. */
export function cardPosition(
  index: number,
  layout: GridLayout,
  cardHeight: number,
  gap: number,
): { x: number; y: number } {
  const row = Math.floor(index / layout.columns);
  const col = index % layout.columns;
  return { x: col * (layout.cardWidth + gap), y: row * (cardHeight + gap) };
}
