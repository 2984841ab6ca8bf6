/// <reference lib="dom" />
/**
 * DOM helpers that write only what changed, so an unchanged value costs no
 * mutation (and no style or layout work).
 *
 * @module
 */

/** Sets `el.textContent` when it differs. */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets a `data-*` attribute when it differs. */
export function setData(el: HTMLElement, name: string, value: string): void {
  if (el.dataset[name] !== value) el.dataset[name] = value;
}

/** Creates an element with a class and optional text. */
export function h(doc: Document, tag: string, className = "", text = ""): HTMLElement {
  const el = doc.createElement(tag);
  if (className) el.className = className;
  if (text) el.textContent = text;
  return el;
}
