/**
 * The table, the HTML report and the progress line, rendered from a real
 * (short) run against the fake server.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/load/load_config.ts";
import type { LoadResult } from "../../lib/load/load_result.ts";
import { runLoad } from "../../lib/load/load_run.ts";
import { formatProgress } from "../../lib/load/progress_line.ts";
import { renderHtmlReport } from "../../lib/load/report_html.ts";
import { formatReport } from "../../lib/load/report_text.ts";
import { withFakeServer } from "../_support/fake_floodgate.ts";

async function sampleRun(): Promise<LoadResult> {
  let result: LoadResult | undefined;
  await withFakeServer({ drop: [4], pingMs: 200 }, async (server) => {
    result = await runLoad({
      ...defaultConfig(),
      url: server.url,
      publishers: 2,
      rate: 10,
      topics: 2,
      subscribers: 3,
      slow: 1,
      stall: true,
      durationSeconds: 1,
      warmupSeconds: 0.1,
      sampleMs: 250,
      settleMs: 500,
    }, { scenario: "test-run" });
  });
  return result!;
}

Deno.test("formatReport names the run and prints every section with the measured figures", async () => {
  const r = await sampleRun();
  const text = formatReport(r);
  assert.match(text, /^Floodgate load test: scenario test-run$/m);
  assert.match(text, /^Target {4}http:\/\/127\.0\.0\.1:\d+; mode fake, engine fake, bus fake$/m);
  assert.match(text, /^Connections {2}3\/3 \(100 %\)/m);
  assert.match(
    text,
    /^Correctness {2}fast: delivered \d+, gapped 0, missing 4, /m,
    "seq 4 of each of 2 topics, 2 fast clients",
  );
  assert.match(text, /^Slow clients 1 stall: .*closes 4008×1$/m);
  assert.match(text, /^Closes {7}4008×1$/m);
  assert.match(text, /^Server {7}RSS 12\.3 MB/m);
  for (const topic of Object.keys(r.correctness.byTopic)) {
    assert.ok(text.includes(`${topic}: delivered`));
  }
  assert.match(text, /^#0 stall/m);
  assert.equal(text.split("\n").filter((l) => /^#\d (fast|stall)/.test(l)).length, 3);
});

Deno.test("renderHtmlReport is one offline file with charts and the full result", async () => {
  const r = await sampleRun();
  const html = renderHtmlReport(r);
  assert.match(html, /^<!doctype html>/);
  assert.ok((html.match(/<svg /g) ?? []).length >= 6, "time, distribution and per-client charts");
  assert.doesNotMatch(html, /<script(?! type="application\/json")/, "no executable script");
  assert.doesNotMatch(html, /\s(src|href)=/, "nothing loaded from elsewhere");
  assert.doesNotMatch(html, /<link /);
  const json = /<script type="application\/json" id="result">(.*)<\/script>/s.exec(html)![1];
  const back = JSON.parse(json) as LoadResult;
  assert.deepEqual(back.correctness, r.correctness);
  assert.equal(back.clients.length, 3);
  assert.ok(html.includes("Slow clients&#39; latency over time"));
});

Deno.test("formatProgress shows phase, rates and p99", () => {
  const point = {
    t: 12,
    subscribers: 5,
    publishedPerSec: 100,
    receivedPerSec: 500,
    perClientPerSec: 100,
    p50: 1.2,
    p99: 3.1,
    max: 9,
    measured: 500,
    slowP99: 0,
    slowMeasured: 0,
    rssBytes: 80e6,
    cpuPercent: 12,
  };
  const line = formatProgress({
    phase: "measuring",
    elapsed: 12,
    planned: 30,
    subscribers: 5,
    point,
  });
  const stalled = formatProgress({
    phase: "measuring",
    elapsed: 3,
    planned: 30,
    subscribers: 4,
    point: { ...point, measured: 0, p99: 0, slowMeasured: 3, slowP99: 2500 },
  });
  assert.match(stalled, /\| nothing received \| slow p99 2,500 ms \|/);
  assert.equal(
    line,
    "measuring 12.0/30 s | 5 subs | pub 100/s | recv 500/s (100/client) | p99 3.10 ms | server 80.0 MB, 12 % CPU",
  );
  assert.equal(
    formatProgress({
      phase: "connecting",
      elapsed: 0,
      planned: 0,
      subscribers: 0,
      point: undefined,
    }),
    "connecting 0.0 s | 0 subs",
  );
});
