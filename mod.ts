/**
 * Floodgate: a WebSocket broadcast service for Deno that never lets one slow
 * client, one huge payload or one burst hold up everyone else.
 *
 * @module
 */
export { startServer } from "./lib/server.ts";
export type { FloodgateServer, ServerParts } from "./lib/server.ts";
export { defaultSettings, loadSettings } from "./lib/config/settings.ts";
export type { Settings } from "./lib/config/settings.ts";
export { Hub } from "./lib/hub/hub.ts";
export { MemoryBus } from "./lib/bus/bus_memory.ts";
export type { Bus, Envelope } from "./lib/bus/bus.ts";
