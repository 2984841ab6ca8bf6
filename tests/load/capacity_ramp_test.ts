import assert from "node:assert/strict";
import { CapacityRamp, type StageMeasurement } from "../../lib/load/capacity_ramp.ts";
import type { RampOptions } from "../../lib/load/load_config.ts";

const options: RampOptions = {
  step: 100,
  stageSeconds: 3,
  maxClients: 400,
  p99LimitMs: 50,
  minDeliveryRatio: 0.9,
  maxConnectFailureRate: 0.01,
};

function stage(clients: number, extra: Partial<StageMeasurement> = {}): StageMeasurement {
  return {
    clients,
    p50: 2,
    p99: 10,
    max: 20,
    perClientPerSec: 20,
    connectAttempted: 100,
    connectFailed: 0,
    closed: 0,
    ...extra,
  };
}

Deno.test("CapacityRamp finds the knee at the last stage within the limits", () => {
  const ramp = new CapacityRamp(options, 20);
  assert.equal(ramp.judge(stage(100)).ok, true);
  assert.equal(ramp.done, false);
  assert.equal(ramp.nextStep(100), 100);
  assert.equal(ramp.judge(stage(200, { p99: 49 })).ok, true);
  const broken = ramp.judge(stage(300, { p99: 75 }));
  assert.deepEqual([broken.ok, broken.reason], [false, "p99 75.0 ms > 50 ms"]);
  assert.equal(ramp.done, true);
  const r = ramp.result();
  assert.equal(r.knee?.clients, 200);
  assert.equal(r.broken?.clients, 300);
  assert.equal(r.verdict, "Knee at 200 subscribers (p99 49.0 ms); at 300: p99 75.0 ms > 50 ms.");
});

Deno.test("CapacityRamp breaks on lost throughput, failed connections and closes too", () => {
  const ramp = new CapacityRamp(options, 20);
  const s = ramp.judge(stage(100, { perClientPerSec: 17, connectFailed: 2, closed: 1 }));
  assert.equal(s.ok, false);
  assert.equal(
    s.reason,
    "clients got 85 % of the expected 20 msgs/s; 2 of 100 connections failed; 1 fast clients were closed by the server",
  );
  assert.match(ramp.result().verdict, /^Already the first stage \(100 subscribers\) broke/);
});

Deno.test("CapacityRamp stops at its most clients and says no knee was found", () => {
  const ramp = new CapacityRamp(options, 20);
  for (const n of [100, 200, 300]) ramp.judge(stage(n));
  assert.equal(ramp.done, false);
  assert.equal(ramp.nextStep(350), 50, "the last step stops at maxClients");
  ramp.judge(stage(400));
  assert.equal(ramp.done, true);
  assert.match(ramp.result().verdict, /^No knee found up to 400 subscribers/);
});
