/**
 * Keeps the server within `--memory-budget`: reads the ledger a few times a
 * second and, past {@linkcode SHED_AT} of the budget, has the hub give up
 * queued memory, largest queues first (see {@linkcode MemoryLedger} for the
 * order). Logs every change of pressure.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { type MemoryLedger, type MemoryPressure, SHED_AT } from "./memory_ledger.ts";

/** What the guard needs of the hub. */
export interface Shedder {
  /** Gives up about `bytes` of queued memory; returns what it let go of. */
  shed(bytes: number): number;
}

/** Options of {@linkcode startMemoryGuard}. */
export interface MemoryGuardOptions {
  ledger: MemoryLedger;
  shedder: Shedder;
  logger: Logger;
  /** How often the ledger is read, ms. @default {250} */
  intervalMs?: number;
}

/**
 * Runs one check: update the ledger; shed when over {@linkcode SHED_AT} of
 * the budget. Exposed for tests and for callers that want a check now.
 *
 * @returns the pressure after shedding.
 */
export function checkMemory(ledger: MemoryLedger, shedder: Shedder): MemoryPressure {
  const snap = ledger.update();
  if (snap.totalBytes <= ledger.budgetBytes * SHED_AT) return snap.pressure;
  if (shedder.shed(ledger.excessBytes) > 0) return ledger.update().pressure;
  return snap.pressure;
}

/** Starts the guard; returns a function that stops it. */
export function startMemoryGuard(options: MemoryGuardOptions): () => void {
  const { ledger, shedder, logger } = options;
  let last: MemoryPressure = "ok";
  const timer = setInterval(() => {
    const pressure = checkMemory(ledger, shedder);
    if (pressure === last) return;
    const { totalBytes, budgetBytes, byHolder } = ledger.last;
    const fields = { pressure, was: last, heldBytes: totalBytes, budgetBytes, byHolder };
    if (pressure === "ok") logger.info("memory.pressure", fields);
    else logger.warn("memory.pressure", fields);
    last = pressure;
  }, options.intervalMs ?? 250);
  return () => clearInterval(timer);
}
