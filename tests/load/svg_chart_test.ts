import assert from "node:assert/strict";
import { barChart, escapeXml, lineChart, niceTicks } from "../../lib/load/svg_chart.ts";

Deno.test("niceTicks covers the range with round steps", () => {
  assert.deepEqual(niceTicks(0, 87), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 4500), [0, 1000, 2000, 3000, 4000, 5000]);
});

Deno.test("lineChart draws each series with escaped names and point tooltips", () => {
  const svg = lineChart({
    title: "p99 <fast>",
    xLabel: "s",
    yLabel: "ms",
    series: [
      { name: "a&b", color: "#123456", points: [[0, 1], [1, 2], [2, NaN]] },
      { name: "c", color: "#654321", dashed: true, points: [[0, 3]] },
    ],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.includes("p99 &lt;fast&gt;"));
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.equal((svg.match(/<circle /g) ?? []).length, 3, "NaN points are left out");
  assert.ok(svg.includes("<title>a&amp;b at 1: 2</title>"));
  assert.ok(svg.includes('stroke-dasharray="5 4"'));
});

Deno.test("barChart draws one bar per item", () => {
  const svg = barChart("t", "x", "y", [
    { label: "#0", value: 3, color: "#f00" },
    { label: "#1", value: 0, color: "#00f" },
  ]);
  assert.equal((svg.match(/<rect /g) ?? []).length, 2);
  assert.equal(escapeXml(`<a href="x">'`), "&lt;a href=&quot;x&quot;&gt;&#39;");
});
