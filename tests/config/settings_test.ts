import assert from "node:assert/strict";
import {
  defaultSettings,
  envName,
  helpText,
  loadSettings,
  SETTINGS,
} from "../../lib/config/settings.ts";

Deno.test("loadSettings resolves flags over variables over defaults", () => {
  const { settings } = loadSettings(["--port", "9001"], {
    FLOODGATE_PORT: "9002",
    FLOODGATE_MODE: "naive",
  });
  assert.equal(settings.port, 9001);
  assert.equal(settings.mode, "naive");
  assert.equal(settings.maxQueueMessages, defaultSettings().maxQueueMessages);
});

Deno.test("loadSettings understands size and duration units", () => {
  const { settings } = loadSettings(
    [
      "--max-queue-bytes",
      "2MiB",
      "--slow-timeout",
      "1.5s",
      "--flush-ms",
      "50",
      "--high-water-bytes",
      "64KiB",
    ],
    {},
  );
  assert.equal(settings.maxQueueBytes, 2 * 1024 * 1024);
  assert.equal(settings.slowTimeoutMs, 1500);
  assert.equal(settings.flushMs, 50);
  assert.equal(settings.highWaterBytes, 65536);
});

Deno.test("loadSettings reads PORT for hosted platforms", () => {
  assert.equal(loadSettings([], { PORT: "8000" }).settings.port, 8000);
});

Deno.test("loadSettings rejects bad values and unknown flags with a RangeError naming them", () => {
  assert.throws(() => loadSettings(["--port", "abc"], {}), /Invalid value "abc" for --port/);
  assert.throws(
    () => loadSettings([], { FLOODGATE_MODE: "fast" }),
    /FLOODGATE_MODE: expected one of queue, naive/,
  );
  assert.throws(() => loadSettings(["--nope"], {}), /--help/);
  assert.throws(() => loadSettings(["--slow-timeout", "soon"], {}), RangeError);
});

Deno.test("--help and the README table list every setting with its variable, default and meaning", async () => {
  const help = helpText();
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const rows = readme.split("\n").map((line) => line.replace(/\s+/g, " "));
  for (const spec of SETTINGS) {
    assert.ok(help.includes(`--${spec.flag} `), `--help lacks --${spec.flag}`);
    assert.ok(help.includes(envName(spec.flag)));
    const row = rows.find((r) => r.startsWith(`| \`--${spec.flag}\` |`));
    assert.ok(row, `README's settings table lacks --${spec.flag}; run deno task docs:settings`);
    for (const cell of [envName(spec.flag), String(spec.default), spec.doc]) {
      assert.ok(
        row.includes(cell),
        `README row of --${spec.flag} lacks "${cell}"; run deno task docs:settings`,
      );
    }
  }
  assert.equal(loadSettings(["-h"], {}).help, true);
});
