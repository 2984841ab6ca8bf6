import assert from "node:assert/strict";
import { StateReads } from "../../lib/http/state_reads.ts";

Deno.test("StateReads holds a body until it is read, and refuses what does not fit", async () => {
  const reads = new StateReads({ maxBytes: 300_000 });
  const body = JSON.stringify({ state: "x".repeat(200_000) });
  const first = reads.respond(body)!;
  assert.equal(reads.heldBytes, body.length);
  assert.equal(reads.respond(body), undefined, "a second one would pass the limit");
  assert.equal(await first.text(), body);
  assert.equal(reads.heldBytes, 0);
  const again = reads.respond(body)!;
  await again.body!.cancel();
  assert.equal(reads.heldBytes, 0, "a reader that gives up releases it");
});
