/**
 * Headless Chromium for tests, screenshots and load tests: Debian's
 * `/usr/bin/chromium` driven by `npm:playwright-core` (never a downloaded
 * browser).
 *
 * @module
 */
import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, offline, sandbox-free headless run. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** True when Chromium is installed (`apt-get install -y chromium`). */
export function chromiumAvailable(path = CHROMIUM_PATH): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A running browser with a throwaway profile. */
export interface Browser {
  readonly context: BrowserContext;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh profile in a temporary folder.
 *
 * @throws {Error} when Chromium is not installed, saying how to install it.
 */
export async function launchChromium(
  options: { colorScheme?: "light" | "dark"; viewport?: { width: number; height: number } } = {},
): Promise<Browser> {
  if (!chromiumAvailable()) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: run "apt-get install -y chromium"`);
  }
  const dir = await Deno.makeTempDir({ prefix: "floodgate-chromium-" });
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    colorScheme: options.colorScheme ?? "light",
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
