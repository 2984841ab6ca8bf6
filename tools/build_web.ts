/**
 * Builds the browser files the server serves: `/client.js` (the SDK) and
 * `/dashboard.js` (the dashboard page), each one minified ES module bundled by
 * `deno bundle` (esbuild inside the Deno toolchain). The output is committed;
 * tests/dashboard/web_assets_test.ts fails when it is out of date.
 *
 * Run: `deno task build:web`
 *
 * @module
 */

/** What is bundled, and where to. */
export const BUNDLES = [
  { entry: "lib/client/mod.ts", out: "client.js" },
  { entry: "lib/dashboard/main.ts", out: "dashboard.js" },
] as const;

const ROOT = new URL("../", import.meta.url);

/** The committed output folder. */
export const STATIC_DIR = new URL("lib/dashboard/static/", ROOT);

/**
 * Bundles every entry into `outDir`.
 *
 * @throws {Error} with the bundler's output when a bundle fails.
 */
export async function buildWeb(outDir: URL = STATIC_DIR): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  for (const { entry, out } of BUNDLES) {
    const target = new URL(out, outDir);
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--minify",
        "--keep-names",
        "--output",
        target.pathname,
        entry,
      ],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!result.success) {
      const text = new TextDecoder().decode(result.stderr);
      throw new Error(`deno bundle ${entry} failed:\n${text}`);
    }
    const code = await Deno.readTextFile(target);
    await Deno.writeTextFile(
      target,
      `// Built from ${entry} by \`deno task build:web\`; do not edit.\n${code}`,
    );
  }
}

if (import.meta.main) {
  await buildWeb();
  for (const { out } of BUNDLES) {
    const { size } = await Deno.stat(new URL(out, STATIC_DIR));
    console.log(`lib/dashboard/static/${out}: ${(size / 1024).toFixed(1)} KiB`);
  }
}
