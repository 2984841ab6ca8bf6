/**
 * What operators read: `/healthz` (open, for load balancers), and `/stats`
 * and `/metrics` (every client's address and topics: behind the admin check).
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { Bus } from "../bus/bus.ts";
import type { Hub } from "../hub/hub.ts";
import type { MemoryLedger } from "../memory/memory_ledger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Upgrader } from "../transport/socket.ts";

/** What the status routes need. */
export interface StatusRoutesOptions {
  hub: Hub;
  bus: Bus;
  upgrader: Upgrader;
  memory: MemoryLedger | undefined;
  /** The Prometheus registry, made on the first scrape. */
  metrics: () => Promise<Metrics>;
  /** Answers a request that may not read `/stats` or `/metrics`; undefined lets it through. */
  admin(c: Context): Promise<Response | undefined>;
}

/** Mounts `/healthz`, `/stats` and `/metrics` on `app`. */
export function mountStatusRoutes(app: Hono, options: StatusRoutesOptions): void {
  const { hub, bus, upgrader, memory, metrics } = options;
  const startedAt = Date.now();

  app.get("/healthz", (c) => {
    const busHealth = bus.health();
    const ledger = memory?.update();
    const overloadedNow = ledger?.pressure === "overloaded";
    return c.json({
      status: !busHealth.ok ? "degraded" : overloadedNow ? "overloaded" : "ok",
      mode: hub.mode,
      engine: upgrader.name,
      bus: { name: bus.name, ...busHealth },
      epoch: bus.epoch,
      clients: hub.clientCount,
      memory: ledger && {
        pressure: ledger.pressure,
        budgetBytes: ledger.budgetBytes,
        heldBytes: ledger.totalBytes,
      },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }, busHealth.ok && !overloadedNow ? 200 : 503);
  });

  app.get("/stats", async (c) =>
    await options.admin(c) ?? c.json({
      server: hub.snapshotStats(),
      memory: memory && { ...memory.update(), process: Deno.memoryUsage() },
      clients: hub.clientStats(),
    }));

  let registry: Promise<Metrics> | undefined;
  app.get("/metrics", async (c) => {
    const refused = await options.admin(c);
    if (refused) return refused;
    const m = await (registry ??= metrics());
    c.header("Content-Type", m.contentType);
    return c.body(await m.render());
  });
}
