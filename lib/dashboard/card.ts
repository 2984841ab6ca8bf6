/// <reference lib="dom" />
/**
 * One card of the keyed-state grid: the key, a status badge, the first fields
 * of the value, and when it last changed.
 *
 * @module
 */
import { formatClock, formatValue } from "./format.ts";

/** What a card shows. */
export interface CardData {
  key: string;
  value: unknown;
  seq?: number;
  ts?: number;
}

const STATUS_FIELDS = ["status", "state", "phase"];
const MAX_FIELDS = 5;

/** Tone of a status word: drives the badge colour. */
export function statusTone(status: string): "ok" | "busy" | "warn" | "error" | "idle" | "other" {
  const s = status.toLowerCase();
  if (/(error|fail|crash|dead|down|offline|stopped)/.test(s)) return "error";
  if (/(warn|wait|slow|pending|queued|blocked|retry)/.test(s)) return "warn";
  if (/(busy|run|active|working|streaming|connect)/.test(s)) return "busy";
  if (/(ok|done|complete|success|ready|online|up|healthy)/.test(s)) return "ok";
  if (/(idle|sleep|paused|inactive)/.test(s)) return "idle";
  return "other";
}

/** Splits a value into its status word and the fields to list. */
export function cardFields(value: unknown): { status?: string; fields: [string, string][] } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { fields: [["value", formatValue(value)]] };
  }
  const obj = value as Record<string, unknown>;
  let status: string | undefined;
  for (const f of STATUS_FIELDS) {
    if (typeof obj[f] === "string") {
      status = obj[f] as string;
      break;
    }
  }
  const fields: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (STATUS_FIELDS.includes(k) && v === status) continue;
    if (fields.length === MAX_FIELDS) break;
    fields.push([k, formatValue(v)]);
  }
  return { status, fields };
}

/** The DOM of one card, updated in place. */
export class CardElement {
  readonly root: HTMLElement;
  readonly #key: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #fields: HTMLElement;
  readonly #footer: HTMLElement;
  #flash = false;

  constructor(doc: Document) {
    this.root = doc.createElement("article");
    this.root.className = "card";
    const head = doc.createElement("header");
    this.#key = doc.createElement("span");
    this.#key.className = "card-key";
    this.#badge = doc.createElement("span");
    this.#badge.className = "badge";
    head.append(this.#key, this.#badge);
    this.#fields = doc.createElement("dl");
    this.#footer = doc.createElement("footer");
    this.root.append(head, this.#fields, this.#footer);
  }

  /** Shows `data`; with `flash`, plays the "just changed" highlight. */
  update(data: CardData, flash: boolean): void {
    const doc = this.root.ownerDocument;
    const { status, fields } = cardFields(data.value);
    if (this.#key.textContent !== data.key) {
      this.#key.textContent = data.key;
      this.#key.title = data.key;
      this.root.dataset.key = data.key;
    }
    this.#badge.textContent = status ?? "";
    this.#badge.hidden = status === undefined;
    this.#badge.dataset.tone = status === undefined ? "" : statusTone(status);
    const rows: HTMLElement[] = [];
    for (const [name, text] of fields) {
      const dt = doc.createElement("dt");
      dt.textContent = name;
      const dd = doc.createElement("dd");
      dd.textContent = text;
      dd.title = text;
      rows.push(dt, dd);
    }
    this.#fields.replaceChildren(...rows);
    const when = data.ts === undefined ? "from snapshot" : formatClock(data.ts);
    this.#footer.textContent = data.seq === undefined ? when : `seq ${data.seq} · ${when}`;
    if (flash) {
      // Alternating two identical animations restarts the highlight without a reflow.
      this.#flash = !this.#flash;
      this.root.classList.toggle("flash-a", this.#flash);
      this.root.classList.toggle("flash-b", !this.#flash);
    }
  }

  /** Moves the card to `(x, y)` with width `w`. */
  place(x: number, y: number, w: number): void {
    const style = this.root.style;
    const transform = `translate(${x}px, ${y}px)`;
    if (style.transform !== transform) style.transform = transform;
    const width = `${w}px`;
    if (style.width !== width) style.width = width;
  }
}
