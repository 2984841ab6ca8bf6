/**
 * Floodgate's entry point: `deno task start [flags]`. Reads settings from flags
 * and `FLOODGATE_*` variables, starts the server, and shuts it down gracefully
 * on SIGINT/SIGTERM.
 *
 * @module
 */
import { helpText, loadSettings, type Settings } from "./lib/config/settings.ts";
import { startServer } from "./lib/server.ts";
import { BusUnavailableError } from "./lib/bus/bus.ts";

if (import.meta.main) {
  let loaded;
  try {
    loaded = loadSettings(Deno.args, Deno.env.toObject());
  } catch (err) {
    console.error(`floodgate: ${(err as Error).message}`);
    Deno.exit(2);
  }
  if (loaded.help) {
    console.log(helpText());
    Deno.exit(0);
  }
  let server;
  try {
    server = await startServer(loaded.settings);
  } catch (err) {
    // A port in use, an address that does not resolve, a Redis that cannot be reached: one line.
    console.error(`floodgate: could not start: ${startupError(err, loaded.settings)}`);
    Deno.exit(2);
  }
  const stop = async () => {
    await server.shutdown();
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Signals are unavailable on some platforms (e.g. Deno Deploy); nothing to do.
    }
  }
}

/** What went wrong at startup, saying which setting to change. */
function startupError(err: unknown, settings: Settings): string {
  const message = err instanceof Error ? err.message : String(err);
  // Redis unreachable within --redis-connect-timeout: the bus's message says so already.
  if (err instanceof BusUnavailableError) return message;
  if (err instanceof Deno.errors.AddrInUse || /EADDRINUSE|address already in use/i.test(message)) {
    return `port ${settings.port} is in use (--port); pick another or stop what holds it`;
  }
  if (/EADDRNOTAVAIL|ENOTFOUND|EAI_|resolve|not available/i.test(message)) {
    return `cannot listen on "${settings.hostname}" (--hostname): ${message}`;
  }
  return message;
}
