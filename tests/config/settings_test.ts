import assert from "node:assert/strict";
import {
  defaultSettings,
  envName,
  helpText,
  loadSettings,
  MAX_DURATION_MS,
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
      "--low-water-bytes",
      "16KiB",
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

/** The value passes its own bounds (a rule between settings may still refuse it with the defaults). */
function accepted(flag: string, value: string): void {
  try {
    loadSettings([flag, value], {});
  } catch (err) {
    assert.ok(!String(err).includes(`for ${flag}:`), `${flag} ${value}: ${err}`);
  }
}

Deno.test("loadSettings enforces every setting's bounds, naming the flag and what is allowed", () => {
  for (const spec of SETTINGS) {
    if (typeof spec.kind === "object" || spec.kind === "string") continue;
    const flag = `--${spec.flag}`;
    if (spec.min !== undefined && spec.min > 0) {
      const below = spec.zeroIsOff && spec.min > 1 ? spec.min - 1 : spec.zeroIsOff ? undefined : 0;
      if (below !== undefined) {
        assert.throws(
          () => loadSettings([flag, String(below)], {}),
          (err: Error) => err instanceof RangeError && err.message.includes(flag),
          `${flag} ${below}`,
        );
      }
      accepted(flag, String(spec.min));
    }
    if (spec.zeroIsOff) accepted(flag, "0");
    const max = spec.kind === "duration"
      ? Math.min(spec.max ?? Infinity, MAX_DURATION_MS)
      : spec.max;
    if (max !== undefined) {
      assert.throws(
        () => loadSettings([flag, String(max + 1)], {}),
        (err: Error) => err instanceof RangeError && err.message.includes(flag),
        `${flag} ${max + 1}`,
      );
    }
  }
});

Deno.test("loadSettings refuses the values that used to start and then crash or stall the server", () => {
  const refused = [
    ["--max-lag", "0"],
    ["--max-queue-messages", "0"],
    ["--max-queue-bytes", "0"],
    ["--max-inflight-bytes", "0"],
    ["--heartbeat-timeout", "0"],
    ["--max-inbound-bytes", "0"],
    ["--max-connections", "0"],
    ["--stats-interval", "1000h"],
    ["--chunk-bytes", "100"],
    ["--compression-level", "0"],
    ["--port", "70000"],
    ["--redis-url", "garbage"],
    ["--allowed-origins", "app.example.com"],
  ];
  for (const [flag, value] of refused) {
    assert.throws(() => loadSettings([flag, value], {}), RangeError, `${flag} ${value}`);
  }
  assert.throws(
    () => loadSettings(["--low-water-bytes", "2MiB", "--high-water-bytes", "1MiB"], {}),
    /--low-water-bytes \(2097152\) must not exceed --high-water-bytes/,
  );
  assert.throws(
    () => loadSettings([], { FLOODGATE_MAX_LAG: "0" }),
    /FLOODGATE_MAX_LAG/,
    "variables are checked the same way",
  );
});
