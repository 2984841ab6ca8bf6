import assert from "node:assert/strict";
import { FlowGate } from "../../lib/hub/flow_gate.ts";
import { PingLedger } from "../../lib/hub/read_progress.ts";
import { ReadWindow } from "../../lib/hub/read_window.ts";

const FLOW = {
  highWaterBytes: 64 << 10,
  lowWaterBytes: 16 << 10,
  maxInflightBytes: 1 << 20,
  maxFrameBytes: 64 << 10,
  maxLagMs: 3000,
};

function gate() {
  const socket = { bufferedAmount: 0 };
  const progress = new PingLedger({
    kind: "wire-ping",
    probe: () => {},
    window: new ReadWindow({ maxBytes: FLOW.maxInflightBytes, maxLagMs: FLOW.maxLagMs }),
    openedAt: 0,
  });
  return { socket, progress, gate: new FlowGate(FLOW, socket, progress) };
}

Deno.test("FlowGate closes past the read window and reopens at half of it", () => {
  const { progress, gate: g } = gate();
  for (let i = 0; i < 4; i++) progress.wrote(4 << 10, () => 0); // a probe after each quarter
  assert.equal(g.open(), true, "at the 16 KiB initial window");
  progress.wrote(1, () => 0);
  assert.equal(g.open(), false);
  assert.equal(g.blocked, true);
  // A late answer: the window becomes what it reads in 1.5 s (8 KiB in 5 s: its 4 KiB floor),
  // and 8 KiB are still unconfirmed, more than half of it.
  progress.answered(8 << 10, 5_000);
  assert.equal(progress.windowBytes, 4 << 10);
  assert.equal(g.open(), false);
  progress.answered((16 << 10) + 1, 5_001);
  assert.equal(g.open(), true);
  assert.equal(g.blocked, false);
});

Deno.test("FlowGate.takeBytes gives what the window has left, at least one byte", () => {
  const { progress, gate: g } = gate();
  assert.equal(g.takeBytes(64 << 10), 16 << 10);
  progress.wrote(20 << 10, () => 0);
  assert.equal(g.takeBytes(64 << 10), 1);
});

Deno.test("FlowGate stays closed while halted (the client lags past --max-lag)", () => {
  const { gate: g } = gate();
  g.halted = true;
  assert.equal(g.open(), false);
  g.halted = false;
  assert.equal(g.open(), true);
});
