import assert from "node:assert/strict";
import { cardFields, statusTone } from "../../lib/dashboard/card.ts";

Deno.test("cardFields takes the status word out and lists the first other fields", () => {
  assert.deepEqual(
    cardFields({ status: "busy", tool: "Bash", cpu: 3.14159, tags: ["a"], a: 1, b: 2, c: 3 }),
    {
      status: "busy",
      fields: [["tool", "Bash"], ["cpu", "3.142"], ["tags", '["a"]'], ["a", "1"], ["b", "2"]],
    },
  );
  assert.deepEqual(cardFields({ state: "idle" }), { status: "idle", fields: [] });
  assert.deepEqual(cardFields(42), { fields: [["value", "42"]] });
  assert.deepEqual(cardFields("x".repeat(60)).fields[0][1].length, 48, "long values are cut");
});

Deno.test("statusTone maps common status words to badge colours", () => {
  const tones = ["error", "Failed", "waiting", "busy", "running", "done", "idle", "custom"]
    .map(statusTone);
  assert.deepEqual(tones, ["error", "error", "warn", "busy", "busy", "ok", "idle", "other"]);
});
