/// <reference lib="dom" />
/**
 * The busiest clients, from `GET /stats`: the largest queues first.
 *
 * @module
 */
import { h, setText } from "./dom_text.ts";
import { formatBytes, formatCount } from "./format.ts";
import type { View } from "./render_scheduler.ts";

/** The fields of a `/stats` client the table shows. */
export interface StatsClient {
  id: string;
  /** `plain` (a bare WebSocket) or `protocol` (offered `floodgate.v1.*`). Absent from older servers. */
  level?: string;
  topics: string[];
  queue: { messages: number; bytes: number };
  sent: { messages: number };
  dropped: number;
  inflightBytes: number;
  slow: boolean;
}

const COLUMNS = ["Client", "Level", "Topics", "Queued", "Bytes", "In flight", "Sent", "Dropped"];

/** The table, as a View. */
export class ClientsTable implements View {
  readonly #body: HTMLElement;
  readonly #caption: HTMLElement;
  readonly #rows: number;
  #clients: StatsClient[] | undefined;
  #dirty = false;

  /** Builds the table inside `root`; shows the `rows` busiest clients. */
  constructor(root: HTMLElement, rows = 8) {
    const doc = root.ownerDocument;
    this.#rows = rows;
    const table = h(doc, "table", "clients");
    this.#caption = h(doc, "caption", "", "Busiest clients");
    const head = h(doc, "thead");
    const tr = h(doc, "tr");
    for (const c of COLUMNS) tr.append(h(doc, "th", "", c));
    head.append(tr);
    this.#body = h(doc, "tbody");
    table.append(this.#caption, head, this.#body);
    root.append(table);
  }

  /** The `clients` array of `/stats`. */
  setClients(clients: StatsClient[]): void {
    this.#clients = clients;
    this.#dirty = true;
  }

  render(): void {
    if (!this.#dirty || !this.#clients) return;
    this.#dirty = false;
    const all = this.#clients;
    const top = [...all].sort((a, b) =>
      b.queue.bytes - a.queue.bytes || b.dropped - a.dropped || b.sent.messages - a.sent.messages
    ).slice(0, this.#rows);
    setText(this.#caption, `Busiest clients (${top.length} of ${all.length})`);
    const doc = this.#body.ownerDocument;
    while (this.#body.children.length > top.length) this.#body.lastElementChild!.remove();
    while (this.#body.children.length < top.length) {
      const tr = h(doc, "tr");
      for (let i = 0; i < COLUMNS.length; i++) tr.append(h(doc, "td"));
      this.#body.append(tr);
    }
    top.forEach((c, i) => {
      const cells = this.#body.children[i].children as HTMLCollectionOf<HTMLElement>;
      const values = [
        c.id,
        c.level ?? "",
        c.topics.join(", "),
        formatCount(c.queue.messages),
        formatBytes(c.queue.bytes),
        formatBytes(c.inflightBytes),
        formatCount(c.sent.messages),
        formatCount(c.dropped),
      ];
      values.forEach((v, j) => setText(cells[j], v));
      const row = this.#body.children[i] as HTMLElement;
      const slow = c.slow ? "true" : "false";
      if (row.dataset.slow !== slow) row.dataset.slow = slow;
    });
  }
}
