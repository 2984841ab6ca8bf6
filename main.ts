/**
 * Floodgate's entry point: `deno task start [flags]`. Reads settings from flags
 * and `FLOODGATE_*` variables, starts the server, and shuts it down gracefully
 * on SIGINT/SIGTERM.
 *
 * @module
 */
import { helpText, loadSettings } from "./lib/config/settings.ts";
import { startServer } from "./lib/server.ts";

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
  const server = await startServer(loaded.settings);
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
