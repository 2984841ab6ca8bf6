/// <reference lib="dom" />
/**
 * The keyed-state grid: one card per key of a topic's store. Only cards whose
 * key changed are re-rendered; past `virtualizeAbove` cards only those in or
 * near the viewport are in the DOM.
 *
 * @module
 */
import type { KeyedState, StateChange } from "../client/keyed_state.ts";
import { CardElement } from "./card.ts";
import type { View } from "./render_scheduler.ts";
import { cardPosition, type GridLayout, gridLayout } from "./virtual_layout.ts";

/** Sizes and thresholds of the grid. */
export interface CardGridOptions {
  /** @default {132} */
  cardHeight?: number;
  /** @default {240} */
  minCardWidth?: number;
  /** @default {12} */
  gap?: number;
  /** @default {2} */
  overscanRows?: number;
  /** Mount every card up to this many; window them beyond. @default {200} */
  virtualizeAbove?: number;
}

/** Counters a test or the status line can read. */
export interface CardGridStats {
  keys: number;
  mounted: number;
  /** Card renders (one per changed, mounted card per pass). */
  cardRenders: number;
  virtual: boolean;
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** A View that mirrors a {@linkcode KeyedState} as cards. */
export class CardGrid implements View {
  readonly #container: HTMLElement;
  readonly #request: () => void;
  readonly #o: Required<CardGridOptions>;
  readonly #mounted = new Map<string, CardElement>();
  readonly #dirty = new Set<string>();
  readonly #flash = new Set<string>();
  #store: KeyedState | undefined;
  #unsubscribe: (() => void) | undefined;
  #order: string[] = [];
  #index: Map<string, number> | undefined;
  #orderVersion = 0;
  #orderDirty = true;
  #layoutDirty = true;
  #layoutKey = "";
  #cardRenders = 0;
  #virtual = false;

  constructor(container: HTMLElement, request: () => void, options: CardGridOptions = {}) {
    this.#container = container;
    this.#request = request;
    this.#o = {
      cardHeight: options.cardHeight ?? 132,
      minCardWidth: options.minCardWidth ?? 240,
      gap: options.gap ?? 12,
      overscanRows: options.overscanRows ?? 2,
      virtualizeAbove: options.virtualizeAbove ?? 200,
    };
  }

  /** Shows `store` (or nothing), replacing the previous one. */
  attach(store: KeyedState | undefined): void {
    this.#unsubscribe?.();
    this.#store = store;
    this.#unsubscribe = store?.onChange((c) => this.#changed(c));
    this.#orderDirty = true;
    for (const key of store?.keys() ?? []) this.#dirty.add(key);
    this.#request();
  }

  /** The viewport or the grid's width changed. */
  markLayout(): void {
    this.#layoutDirty = true;
    this.#request();
  }

  /** Current counters. */
  stats(): CardGridStats {
    return {
      keys: this.#store?.size ?? 0,
      mounted: this.#mounted.size,
      cardRenders: this.#cardRenders,
      virtual: this.#virtual,
    };
  }

  #changed(c: StateChange): void {
    if (c.deleted.length > 0) this.#orderDirty = true;
    for (const key of c.changed) {
      if (!this.#orderDirty && !this.#orderIndex().has(key)) this.#orderDirty = true;
      this.#dirty.add(key);
      if (c.cause === "message") this.#flash.add(key);
    }
    this.#request();
  }

  #orderIndex(): Map<string, number> {
    this.#index ??= new Map(this.#order.map((k, i) => [k, i]));
    return this.#index;
  }

  render(): void {
    const store = this.#store;
    if (this.#orderDirty) {
      this.#order = store ? [...store.keys()].sort(collator.compare) : [];
      this.#index = undefined;
      this.#orderVersion++;
      this.#orderDirty = false;
      this.#layoutDirty = true;
    }
    if (!this.#layoutDirty && this.#dirty.size === 0) return;
    // Reads first (one layout), then writes.
    const rect = this.#container.getBoundingClientRect();
    const viewHeight = this.#container.ownerDocument.defaultView?.innerHeight ?? 800;
    const layout = gridLayout({
      count: this.#order.length,
      width: this.#container.clientWidth,
      minCardWidth: this.#o.minCardWidth,
      cardHeight: this.#o.cardHeight,
      gap: this.#o.gap,
      viewTop: -rect.top,
      viewBottom: viewHeight - rect.top,
      overscanRows: this.#o.overscanRows,
      virtualizeAbove: this.#o.virtualizeAbove,
    });
    this.#virtual = layout.virtual;
    const layoutKey =
      `${layout.columns}:${layout.cardWidth}:${layout.first}:${layout.end}:${this.#orderVersion}`;
    const relayout = this.#layoutDirty && layoutKey !== this.#layoutKey;
    this.#layoutDirty = false;
    if (relayout) this.#mountRange(layout);
    this.#layoutKey = layoutKey;
    for (const key of this.#dirty) {
      const card = this.#mounted.get(key);
      if (card && store?.has(key)) this.#renderCard(card, key, this.#flash.has(key));
    }
    this.#dirty.clear();
    this.#flash.clear();
    const height = `${layout.height}px`;
    if (this.#container.style.height !== height) this.#container.style.height = height;
  }

  #mountRange(layout: GridLayout): void {
    const doc = this.#container.ownerDocument;
    const wanted = new Set(this.#order.slice(layout.first, layout.end));
    for (const [key, card] of this.#mounted) {
      if (!wanted.has(key)) {
        card.root.remove();
        this.#mounted.delete(key);
      }
    }
    const added: HTMLElement[] = [];
    for (let i = layout.first; i < layout.end; i++) {
      const key = this.#order[i];
      let card = this.#mounted.get(key);
      if (!card) {
        card = new CardElement(doc);
        this.#mounted.set(key, card);
        this.#renderCard(card, key, false);
        this.#dirty.delete(key);
        added.push(card.root);
      }
      const { x, y } = cardPosition(i, layout, this.#o.cardHeight, this.#o.gap);
      card.place(x, y, layout.cardWidth);
    }
    if (added.length > 0) this.#container.append(...added);
  }

  #renderCard(card: CardElement, key: string, flash: boolean): void {
    const store = this.#store;
    if (!store) return;
    const meta = store.meta(key);
    card.update({ key, value: store.get(key), seq: meta?.seq, ts: meta?.ts }, flash);
    this.#cardRenders++;
  }
}
