import assert from "node:assert/strict";
import type { LoadResult } from "../../lib/load/load_result.ts";
import { renderHtmlReport } from "../../lib/load/report_html.ts";
import { sampleLoadResult } from "../_support/sample_load_result.ts";

Deno.test("renderHtmlReport is one offline file with charts and the full result", async () => {
  const r = await sampleLoadResult();
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
