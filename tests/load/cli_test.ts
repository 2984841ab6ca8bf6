/**
 * `deno task load` as CI runs it: a child process against a (fake) server,
 * its exit status, its assertion lines, `--json` and `--report`.
 */
import assert from "node:assert/strict";
import type { LoadResult } from "../../lib/load/load_result.ts";
import { withFakeServer } from "../_support/fake_floodgate.ts";

const CLI = new URL("../../lib/load/cli.ts", import.meta.url).pathname;

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const SHORT = ["--duration", "1", "--warmup", "0.2", "--settle", "1", "--rate", "20", "-q"];

Deno.test("load CLI exits 1 and says which assertion failed, with the measured value", async () => {
  await withFakeServer({ drop: [3, 5] }, async (server) => {
    const { code, stdout, stderr } = await runCli([
      "--url",
      server.url,
      "--subscribers",
      "2",
      ...SHORT,
      "--assert",
      "missing=0",
      "--assert",
      "p99<10s",
    ]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^FAIL missing=0 \(measured 4\)$/m);
    assert.match(stderr, /^PASS p99<10s \(measured [\d.]+\)$/m);
    assert.match(stdout, /^Correctness {2}fast: delivered \d+, gapped 0, missing 4,/m);
  });
});

Deno.test("load CLI prints the result as JSON and writes the HTML report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withFakeServer({}, async (server) => {
      const report = `${dir}/report.html`;
      const { code, stdout, stderr } = await runCli([
        "--url",
        server.url,
        "--subscribers",
        "1",
        ...SHORT,
        "--json",
        "--report",
        report,
        "--assert",
        "missing=0",
      ]);
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout) as LoadResult;
      assert.equal(result.clients.length, 1);
      assert.equal(result.correctness.all.missing, 0);
      assert.ok(result.publish.accepted > 0);
      assert.match(await Deno.readTextFile(report), /^<!doctype html>/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load CLI exits 2 with a message for bad flags and an unreachable server", async () => {
  const bad = await runCli(["--rate", "fast"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^load: Invalid value "fast" for --rate: expected a number/m);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const down = await runCli(["--url", `http://127.0.0.1:${port}`, ...SHORT]);
  assert.equal(down.code, 2);
  assert.match(
    down.stderr,
    /^load: Cannot reach a Floodgate server: GET http:\/\/127\.0\.0\.1:\d+\/healthz failed: .*refused.*pass --spawn$/m,
  );
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task load/m);
});
