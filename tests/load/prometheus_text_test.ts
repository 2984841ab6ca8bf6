import assert from "node:assert/strict";
import { parsePrometheusText } from "../../lib/load/prometheus_text.ts";

Deno.test("parsePrometheusText reads plain and labelled samples and skips comments", () => {
  const m = parsePrometheusText([
    "# HELP process_cpu_seconds_total Total user and system CPU time.",
    "# TYPE process_cpu_seconds_total counter",
    "process_cpu_seconds_total 12.5",
    "process_resident_memory_bytes 75632640",
    'floodgate_disconnects_total{code="4008"} 3',
    'odd{reason="slow consumer",x="a b"} 1 1700000000000',
    "nan_sample NaN",
    "",
  ].join("\n"));
  assert.equal(m.get("process_cpu_seconds_total"), 12.5);
  assert.equal(m.get("process_resident_memory_bytes"), 75632640);
  assert.equal(m.get('floodgate_disconnects_total{code="4008"}'), 3);
  assert.equal(m.get('odd{reason="slow consumer",x="a b"}'), 1);
  assert.equal(m.has("nan_sample"), false);
  assert.equal(m.size, 4);
});
