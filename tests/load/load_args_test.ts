import assert from "node:assert/strict";
import { loadHelp, parseLoadArgs } from "../../lib/load/load_args.ts";
import { SCENARIOS } from "../../lib/load/scenarios.ts";

Deno.test("parseLoadArgs applies defaults, then the scenario, then flags", () => {
  const a = parseLoadArgs(["--scenario", "slow-client", "--slow-ms", "50", "--duration", "7"]);
  assert.equal(a.scenario, "slow-client");
  assert.equal(a.config.subscribers, 4, "from the scenario");
  assert.equal(a.config.rate, 50, "from the scenario");
  assert.equal(a.config.slowMs, 50, "the flag wins over the scenario's 200");
  assert.equal(a.config.durationSeconds, 7);
  assert.equal(a.config.warmupSeconds, 2, "the default");
  assert.match(a.config.topic, /^load-[0-9a-f]{8}$/);
});

Deno.test("parseLoadArgs passes flags after -- to the spawned server", () => {
  const a = parseLoadArgs(["--spawn", "--rate", "5", "--", "--mode", "naive", "--flush-ms", "250"]);
  assert.equal(a.spawn, true);
  assert.deepEqual(a.serverFlags, ["--mode", "naive", "--flush-ms", "250"]);
  assert.equal(a.config.rate, 5);
  assert.throws(
    () => parseLoadArgs(["--", "--mode", "naive"]),
    /server flags after -- need --spawn/,
  );
});

Deno.test("parseLoadArgs reads sizes, seconds, headers, assertions and the output flags", () => {
  const a = parseLoadArgs([
    "--url",
    "http://10.0.0.5:8080/",
    "--payload-bytes",
    "1KiB",
    "--large-bytes",
    "424KB",
    "--settle",
    "1.5",
    "--publish-over",
    "ws",
    "--latency-from",
    "server",
    "--header",
    "Authorization: Bearer abc:def",
    "--token",
    "jwt.for.ws",
    "--assert",
    "p99<50ms",
    "--assert",
    "missing=0",
    "--json",
    "--report",
    "out.html",
  ]);
  assert.equal(a.config.url, "http://10.0.0.5:8080");
  assert.equal(a.config.payloadBytes, 1024);
  assert.equal(a.config.largeBytes, 424_000);
  assert.equal(a.config.settleMs, 1500);
  assert.equal(a.config.publishOver, "ws");
  assert.equal(a.config.latencyFrom, "ts");
  assert.deepEqual(a.config.headers, { Authorization: "Bearer abc:def" });
  assert.equal(a.config.token, "jwt.for.ws");
  assert.deepEqual(a.assertions.map((x) => x.metric), ["p99", "missing"]);
  assert.deepEqual([a.json, a.report], [true, "out.html"]);
});

Deno.test("parseLoadArgs names the flag and the expected value when one is wrong", () => {
  const cases: [string[], RegExp][] = [
    [["--rate", "fast"], /Invalid value "fast" for --rate: expected a number/],
    [["--subscribers", "2.5"], /--subscribers: expected an integer/],
    [["--payload-bytes", "lots"], /--payload-bytes: expected a size/],
    [["--publish-over", "grpc"], /--publish-over: expected http or ws/],
    [["--slow", "5", "--subscribers", "3"], /--slow must be between 0 and --subscribers \(3\)/],
    [["--url", "ws://x"], /--url must start with http/],
    [["--scenario", "huge"], /Unknown scenario "huge"; known: sessions-5x2x1/],
    [["--step", "10"], /need --scenario capacity/],
    [["--frobnicate"], /Run with --help/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseLoadArgs(args), (e: Error) => {
      assert.ok(e instanceof RangeError, `${args.join(" ")} → ${e.constructor.name}`);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.throws(() => parseLoadArgs(["--assert", "p99 fast"]), TypeError);
});

Deno.test("parseLoadArgs sets the capacity ramp from flags", () => {
  const a = parseLoadArgs(["--scenario", "capacity", "--step", "50", "--p99-limit", "20"]);
  assert.equal(a.config.ramp?.step, 50);
  assert.equal(a.config.ramp?.p99LimitMs, 20);
  assert.equal(SCENARIOS.capacity.config.ramp?.step, 250, "the preset itself is unchanged");
});

Deno.test("loadHelp lists every scenario and assertion metric", () => {
  const help = loadHelp();
  for (const name of Object.keys(SCENARIOS)) assert.ok(help.includes(`    ${name} `), name);
  for (const metric of ["p99", "missing", "undelivered", "closes_<code>"]) {
    assert.ok(help.includes(metric), metric);
  }
});

Deno.test("parseLoadArgs takes several --url for the instances of one cluster, and --instances for --spawn", () => {
  const a = parseLoadArgs(["--url", "http://a:1/", "--url", "http://b:2"]);
  assert.equal(a.config.url, "http://a:1");
  assert.deepEqual(a.config.alsoUrls, ["http://b:2"]);
  const b = parseLoadArgs([
    "--spawn",
    "--instances",
    "2",
    "--",
    "--redis-url",
    "redis://127.0.0.1:6379",
  ]);
  assert.equal(b.instances, 2);
  assert.deepEqual(b.serverFlags, ["--redis-url", "redis://127.0.0.1:6379"]);
});
