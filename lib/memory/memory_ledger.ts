/**
 * One ledger of everything the server holds on behalf of clients and topics,
 * in bytes, by holder, against one budget (`--memory-budget`).
 *
 * Each holder registers how to read what it holds now; the ledger sums them
 * when {@linkcode MemoryLedger.update} runs (on the hub's heartbeat tick and
 * when `/metrics`, `/stats` or `/healthz` are read), so the hot path pays
 * nothing. What a holder lets go of leaves the ledger at the next update.
 *
 * Pressure, and what the server does about it (docs/protocol.md, "Memory"):
 * - `ok`: under 90 % of the budget.
 * - `shedding`: over 90 %: the largest client queues are coalesced to the
 *   latest per key and their oldest messages dropped, with gaps, until the
 *   total is back under 80 %.
 * - `overloaded`: still over the budget after shedding: new connections get
 *   HTTP 503 and publishes 503 `overloaded`, until it falls under 90 %.
 *
 * @module
 */

/** What holds memory on behalf of clients and topics. */
export type MemoryHolder =
  | "queues"
  | "history"
  | "state"
  | "reassembly"
  | "state_reads";

/** Every holder, in the order they are reported. */
export const MEMORY_HOLDERS: readonly MemoryHolder[] = [
  "queues",
  "history",
  "state",
  "reassembly",
  "state_reads",
];

/** How close the ledger is to its budget (see the module docs). */
export type MemoryPressure = "ok" | "shedding" | "overloaded";

/** What the ledger reports. */
export interface LedgerSnapshot {
  budgetBytes: number;
  totalBytes: number;
  pressure: MemoryPressure;
  byHolder: Record<MemoryHolder, number>;
}

/** Fraction of the budget above which the server sheds. */
export const SHED_AT = 0.9;
/** Fraction of the budget shedding brings the total down to. */
export const SHED_TO = 0.8;

/**
 * Sums what the holders hold and judges the pressure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryLedger } from "./memory_ledger.ts";
 *
 * let queued = 0;
 * const ledger = new MemoryLedger(1000);
 * ledger.register("queues", () => queued);
 * queued = 950;
 * assert.equal(ledger.update().pressure, "shedding");
 * queued = 100;
 * assert.equal(ledger.update().pressure, "ok");
 * ```
 */
export class MemoryLedger {
  readonly budgetBytes: number;
  readonly #sources = new Map<MemoryHolder, (() => number)[]>();
  #last: LedgerSnapshot;

  /** @param budgetBytes `--memory-budget`; must be > 0. */
  constructor(budgetBytes: number) {
    if (!(budgetBytes > 0)) {
      throw new RangeError(`The memory budget must be > 0 bytes, got "${budgetBytes}"`);
    }
    this.budgetBytes = budgetBytes;
    this.#last = {
      budgetBytes,
      totalBytes: 0,
      pressure: "ok",
      byHolder: Object.fromEntries(MEMORY_HOLDERS.map((h) => [h, 0])) as Record<
        MemoryHolder,
        number
      >,
    };
  }

  /** Adds a source of what `holder` holds; several sources of one holder are summed. */
  register(holder: MemoryHolder, bytes: () => number): void {
    const list = this.#sources.get(holder) ?? [];
    list.push(bytes);
    this.#sources.set(holder, list);
  }

  /** The pressure as of the last update. */
  get pressure(): MemoryPressure {
    return this.#last.pressure;
  }

  /** The totals as of the last update. */
  get last(): LedgerSnapshot {
    return this.#last;
  }

  /** Bytes the holders must give up to be back under {@linkcode SHED_TO} of the budget. */
  get excessBytes(): number {
    return Math.max(0, this.#last.totalBytes - this.budgetBytes * SHED_TO);
  }

  /**
   * Reads every source and judges the pressure. Overloaded stays on until the
   * total falls under the shedding threshold (hysteresis).
   */
  update(): LedgerSnapshot {
    const byHolder = { ...this.#last.byHolder };
    let total = 0;
    for (const holder of MEMORY_HOLDERS) {
      let held = 0;
      for (const source of this.#sources.get(holder) ?? []) held += source();
      byHolder[holder] = held;
      total += held;
    }
    const budget = this.budgetBytes;
    const pressure: MemoryPressure = total > budget
      ? "overloaded"
      : total <= budget * SHED_AT
      ? "ok"
      : this.#last.pressure === "overloaded"
      ? "overloaded"
      : "shedding";
    this.#last = { budgetBytes: budget, totalBytes: total, pressure, byHolder };
    return this.#last;
  }
}
