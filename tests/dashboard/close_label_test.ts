import assert from "node:assert/strict";
import { closeLabel, disconnectEntries } from "../../lib/dashboard/close_label.ts";

Deno.test("closeLabel tells a closed tab from a server shutdown, and names lost connections", () => {
  assert.equal(closeLabel("client", 1001), "client went away (tab closed, page left)");
  assert.equal(closeLabel("server", 1001), "server shutting down");
  assert.equal(closeLabel("client", 1000), "closed by the client");
  assert.equal(closeLabel("server", 4008), "slow consumer");
  assert.equal(closeLabel("client", 0), "connection lost (no close frame)");
  assert.equal(closeLabel("server", 1006), "connection lost (no close frame)");
  assert.equal(closeLabel("client", 4321), "closed by the client (its code)");
});

Deno.test("disconnectEntries labels by closer when reported, by code alone otherwise, most first", () => {
  const rows = disconnectEntries({ "1001": 5 }, { client: { "1001": 3 }, server: { "1001": 2 } });
  assert.deepEqual(rows.map((r) => [r.by, r.code, r.count]), [
    ["client", 1001, 3],
    ["server", 1001, 2],
  ]);
  assert.equal(rows[0].label, "client went away (tab closed, page left)");
  const old = disconnectEntries({ "4008": 1, "1000": 4 }, undefined);
  assert.deepEqual(old.map((r) => [r.by, r.code, r.label]), [
    [undefined, 1000, "normal closure"],
    [undefined, 4008, "slow consumer"],
  ]);
});
