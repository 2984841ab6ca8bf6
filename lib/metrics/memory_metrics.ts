/**
 * The memory ledger and the process's own memory in `/metrics`: what each
 * holder holds, the budget and its pressure, beside RSS, V8 heap and external
 * memory, so the accounted bytes can be read against what the container sees.
 *
 * @module
 */
import client from "prom-client";
import { MEMORY_HOLDERS, type MemoryLedger } from "../memory/memory_ledger.ts";

const PRESSURE_LEVEL = { ok: 0, shedding: 1, overloaded: 2 } as const;

/** Adds the memory gauges to `registry`. */
export function registerMemoryMetrics(registry: client.Registry, ledger: MemoryLedger): void {
  new client.Gauge({
    name: "floodgate_memory_held_bytes",
    help: "Bytes the server holds on behalf of clients and topics, by holder (the memory ledger)",
    labelNames: ["holder"],
    registers: [registry],
    collect() {
      const snap = ledger.update();
      for (const holder of MEMORY_HOLDERS) this.set({ holder }, snap.byHolder[holder]);
    },
  });
  new client.Gauge({
    name: "floodgate_memory_budget_bytes",
    help: "The memory budget (--memory-budget)",
    registers: [registry],
    collect() {
      this.set(ledger.budgetBytes);
    },
  });
  new client.Gauge({
    name: "floodgate_memory_pressure",
    help:
      "0 ok, 1 shedding (over 90 % of the budget), 2 overloaded (refusing connections and publishes)",
    registers: [registry],
    collect() {
      this.set(PRESSURE_LEVEL[ledger.pressure]);
    },
  });
  new client.Gauge({
    name: "floodgate_process_memory_bytes",
    help:
      "The process's memory: rss, V8 heap used and total, external (ArrayBuffers, off the heap)",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      const m = Deno.memoryUsage();
      this.set({ kind: "rss" }, m.rss);
      this.set({ kind: "heap_used" }, m.heapUsed);
      this.set({ kind: "heap_total" }, m.heapTotal);
      this.set({ kind: "external" }, m.external);
    },
  });
}
