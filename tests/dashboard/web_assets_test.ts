/** The committed browser bundles: up to date with their sources, and free of Deno-only APIs. */
import assert from "node:assert/strict";
import { buildWeb, BUNDLES, STATIC_DIR } from "../../tools/build_web.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("the committed /client.js and /dashboard.js match a fresh build of their sources", async () => {
  const dir = await Deno.makeTempDir({ prefix: "floodgate-web-" });
  try {
    const out = new URL(`file://${dir}/`);
    await buildWeb(out);
    for (const { out: name, entry } of BUNDLES) {
      const fresh = await Deno.readTextFile(new URL(name, out));
      const committed = await Deno.readTextFile(new URL(name, STATIC_DIR));
      assert.ok(
        fresh === committed,
        `lib/dashboard/static/${name} is out of date with ${entry}: run "deno task build:web"`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the SDK and the dashboard type-check with browser libraries only", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const dir = await Deno.makeTempDir({ prefix: "floodgate-dom-check-" });
  try {
    const configPath = `${dir}/deno.json`;
    await Deno.writeTextFile(
      configPath,
      JSON.stringify({
        compilerOptions: { strict: true, lib: ["dom", "dom.iterable", "esnext"] },
        imports: config.imports,
      }),
    );
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "check",
        "--quiet",
        "--no-lock",
        "--config",
        configPath,
        ...BUNDLES.map((b) => b.entry),
      ],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const errors = new TextDecoder().decode(result.stderr);
    assert.ok(result.success, `Deno-only APIs or type errors under DOM libs:\n${errors}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
