import assert from "node:assert/strict";
import { formatReport } from "../../lib/load/report_text.ts";
import { sampleLoadResult } from "../_support/sample_load_result.ts";

Deno.test("formatReport names the run and prints every section with the measured figures", async () => {
  const r = await sampleLoadResult();
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
  assert.match(text, /^Closes {7}4008×1 \(close frames the clients read\)$/m);
  assert.match(text, /^Server {7}RSS 12\.3 MB/m);
  for (const topic of Object.keys(r.correctness.byTopic)) {
    assert.ok(text.includes(`${topic}: delivered`));
  }
  assert.match(text, /^#0 stall/m);
  assert.equal(text.split("\n").filter((l) => /^#\d (fast|stall)/.test(l)).length, 3);
});
