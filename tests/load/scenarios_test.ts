import assert from "node:assert/strict";
import { defaultConfig, expectedPerClient } from "../../lib/load/load_config.ts";
import { scenario } from "../../lib/load/scenarios.ts";

Deno.test("the session scenarios send the issue's msgs/s per dashboard client", () => {
  const expected: [string, number, number][] = [
    ["sessions-5x2x1", 10, 1],
    ["sessions-10x3x1", 30, 1],
    ["sessions-15x5x1", 75, 1],
    ["sessions-10x3x3", 30, 3],
    ["sessions-20x5x5", 100, 5],
  ];
  for (const [name, perClient, clients] of expected) {
    const config = { ...defaultConfig(), ...scenario(name).config };
    assert.equal(expectedPerClient(config), perClient, name);
    assert.equal(config.subscribers, clients, name);
    assert.equal(config.payload, "session", name);
  }
});

Deno.test("the room scenarios have the guide's client counts and rates", () => {
  const expected: [string, number, number][] = [
    ["light", 10, 10],
    ["medium", 50, 20],
    ["heavy", 100, 50],
    ["stress", 200, 100],
  ];
  for (const [name, clients, perClient] of expected) {
    const config = { ...defaultConfig(), ...scenario(name).config };
    assert.deepEqual([config.subscribers, expectedPerClient(config)], [clients, perClient], name);
  }
});

Deno.test("slow-client, large-payload and capacity set what they are named for", () => {
  const slow = scenario("slow-client").config;
  assert.deepEqual([slow.subscribers, slow.slow, slow.rate], [4, 1, 50]);
  const large = scenario("large-payload").config;
  assert.equal(large.largeBytes, 424_000);
  assert.ok(scenario("capacity").config.ramp);
  assert.throws(() => scenario("nope"), RangeError);
});
