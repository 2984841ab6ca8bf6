import assert from "node:assert/strict";
import { checkAssertions, parseAssertion } from "../../lib/load/assertions.ts";

Deno.test("parseAssertion converts thresholds to the metric's base unit", () => {
  assert.deepEqual(parseAssertion("p99<50ms"), {
    text: "p99<50ms",
    metric: "p99",
    op: "<",
    value: 50,
  });
  assert.equal(parseAssertion("p99 < 0.5s").value, 500);
  assert.equal(parseAssertion("max<=800us").value, 0.8);
  assert.equal(parseAssertion("p50<250µs").value, 0.25);
  assert.equal(parseAssertion("p95<7").value, 7);
  assert.equal(parseAssertion("rss_max<200MiB").value, 200 * 1024 * 1024);
  assert.equal(parseAssertion("rss_max<1.5GB").value, 1.5e9);
  assert.equal(parseAssertion("connect_success>=99.5%").value, 99.5);
  assert.equal(parseAssertion("msgs_per_client>=95/s").value, 95);
  assert.equal(parseAssertion("missing==0").op, "=");
  assert.equal(parseAssertion("closes_4008=1").metric, "closes_4008");
  assert.equal(parseAssertion("slow.p99!=0").op, "!=");
});

Deno.test("parseAssertion rejects unknown metrics, wrong units and garbage, saying what is allowed", () => {
  assert.throws(() => parseAssertion("p98<50ms"), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /Unknown metric "p98".*known: p50, p95, p99/);
    return true;
  });
  assert.throws(
    () => parseAssertion("missing<5ms"),
    /Unit "ms" does not fit missing.*allowed units: none/,
  );
  assert.throws(() => parseAssertion("p99<5MB"), /allowed units: ms, s, us, µs/);
  assert.throws(() => parseAssertion("p99 is low"), /Invalid assertion "p99 is low"/);
  assert.throws(() => parseAssertion(""), TypeError);
});

Deno.test("checkAssertions compares with each operator and fails what was not measured", () => {
  const values = { p99: 50, missing: 0, cpu_avg: 12.5 };
  const results = checkAssertions(
    [
      "p99<50ms",
      "p99<=50ms",
      "p99>49",
      "p99>=51",
      "missing=0",
      "missing!=0",
      "cpu_avg<20%",
      "rss_max<1GB",
      "closes_4008=0",
      "closes_4009>0",
    ].map(parseAssertion),
    values,
  );
  assert.deepEqual(results.map((r) => [r.assertion.text, r.ok, r.actual]), [
    ["p99<50ms", false, 50],
    ["p99<=50ms", true, 50],
    ["p99>49", true, 50],
    ["p99>=51", false, 50],
    ["missing=0", true, 0],
    ["missing!=0", false, 0],
    ["cpu_avg<20%", true, 12.5],
    ["rss_max<1GB", false, undefined],
    ["closes_4008=0", true, 0],
    ["closes_4009>0", false, 0],
  ]);
});
