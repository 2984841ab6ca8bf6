import assert from "node:assert/strict";
import { formatProgress } from "../../lib/load/progress_line.ts";

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
