import assert from "node:assert/strict";
import { type DemoSide, demoTable, demoVerdict } from "../../lib/load/demo_report.ts";

const queue: DemoSide = {
  fastPerSec: 50,
  expectedPerSec: 50,
  fastP50: 3.2,
  fastP99: 9.9,
  fastMax: 22.5,
  fastReceived: 800,
  published: 800,
  slowPerSec: 10,
  slowP99: 12_272,
  slowGapped: 88,
  slowCloses: { "4008": 1 },
  rssMaxBytes: 125e6,
  cpuAvgPercent: 5.5,
};
const stalledNaive: DemoSide = {
  ...queue,
  fastPerSec: 21.8,
  fastP50: 1.35,
  fastP99: 5186,
  fastMax: 5243,
  fastReceived: 330,
  slowGapped: 0,
  slowCloses: {},
};

Deno.test("demoVerdict says the slow client held naive mode up and the queues kept the rest apart", () => {
  assert.equal(
    demoVerdict(stalledNaive, queue),
    [
      "Naive mode: the one slow client held everyone up. The fast clients got 21.8 of 50 msgs/s; 470 of the 800 published never reached them by the end, and of those that did, the slowest took 5.24 s (p99 5,186 ms).",
      "Queue mode: the fast clients got every message at full rate (50 msgs/s, p99 9.90 ms) while the slow client read what it could (10 msgs/s), was told of 88 messages it would not get and was disconnected as a slow consumer (4008).",
      "Same build, same load: per-client queues keep one slow reader from delaying everyone else.",
    ].join("\n"),
  );
});

Deno.test("demoVerdict says so when naive mode was not held up yet, and why", () => {
  const verdict = demoVerdict({ ...queue, slowGapped: 0, slowCloses: {} }, queue);
  assert.match(
    verdict,
    /^Naive mode: the fast clients kept up this time .*kernel's socket buffers/,
  );
  assert.doesNotMatch(verdict, /Same build/);
});

Deno.test("demoVerdict does not credit the queues when their fast clients fell behind too", () => {
  const verdict = demoVerdict(stalledNaive, { ...queue, fastPerSec: 30, fastP99: 2500 });
  assert.match(
    verdict,
    /Queue mode: the fast clients were held up too \(30 msgs\/s, p99 2,500 ms\)/,
  );
  assert.doesNotMatch(verdict, /Same build/);
});

Deno.test("demoTable puts the two modes side by side", () => {
  const lines = demoTable(stalledNaive, queue).split("\n");
  assert.match(lines[0], /naive \(await each send\)\s+queue \(Floodgate\)$/);
  assert.match(lines[1], /^fast clients: msgs\/s each\s+21\.8 of 50\s+50 of 50$/);
  assert.match(lines.find((l) => l.startsWith("slow client: closed"))!, /none\s+4008×1$/);
  assert.equal(lines.length, 11);
});

Deno.test("demoVerdict describes a stalled client that read nothing and timed out", () => {
  const stalled = { ...queue, slowPerSec: 0, slowGapped: 0, slowCloses: { "4009": 1 } };
  assert.match(
    demoVerdict({ ...stalledNaive, fastMax: 11.4 }, stalled),
    /the slowest took 11\.4 ms .*\n.*the slow client read nothing and was disconnected for its unanswered pings \(4009\)\./,
  );
});

Deno.test("demoVerdict says naive mode's fast clients only caught up once the slow one was closed", () => {
  const late = {
    ...stalledNaive,
    fastPerSec: 50,
    fastReceived: 800,
    fastP50: 2419,
    fastP99: 8262,
    fastMax: 8400,
    slowCloses: { "4009": 1 },
  };
  assert.match(
    demoVerdict(late, queue),
    /^Naive mode: the one slow client held everyone up\. The fast clients' messages arrived up to 8\.40 s late \(p50 2,419 ms, p99 8,262 ms\); they caught up only after the server closed the slow client \(4009\)\.$/m,
  );
});
