import assert from "node:assert/strict";
import { StateReads } from "../../lib/http/state_reads.ts";

const utf8 = new TextEncoder();

Deno.test("StateReads holds a body until it is read, and refuses what does not fit", async () => {
  const reads = new StateReads({ maxBytes: 300_000 });
  const text = JSON.stringify({ state: "x".repeat(200_000) });
  const first = reads.respond([utf8.encode(text)])!;
  assert.equal(reads.heldBytes, text.length);
  assert.equal(reads.respond([utf8.encode(text)]), undefined, "a second one would pass the limit");
  assert.equal(await first.text(), text);
  assert.equal(reads.heldBytes, 0);
  const again = reads.respond([utf8.encode(text)])!;
  await again.body!.cancel();
  assert.equal(reads.heldBytes, 0, "a reader that gives up releases it");
});

Deno.test("StateReads counts bytes shared by several responses once, until the last lets go", async () => {
  const reads = new StateReads({ maxBytes: 300_000 });
  const shared = utf8.encode(`"${"s".repeat(200_000)}"}`);
  const responses = Array.from(
    { length: 5 },
    (_, i) => reads.respond([utf8.encode(`{"n":${i},"state":`), shared.subarray(0)])!,
  );
  assert.ok(responses.every((r) => r !== undefined), "the shared part fits once for all five");
  assert.equal(reads.heldBytes, shared.length + 5 * 15);
  const texts = await Promise.all(responses.slice(0, 4).map((r) => r.text()));
  assert.deepEqual(JSON.parse(texts[2]).n, 2);
  assert.equal(JSON.parse(texts[3]).state.length, 200_000);
  assert.equal(reads.heldBytes, shared.length + 15, "the last reader still holds it");
  await responses[4].body!.cancel();
  assert.equal(reads.heldBytes, 0);
});
