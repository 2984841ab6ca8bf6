import assert from "node:assert/strict";
import { constants, inflateRawSync } from "node:zlib";
import { builtFrame } from "../../lib/hub/built_frame.ts";
import { FrameCompressor } from "../../lib/hub/frame_compressor.ts";

/** What a permessage-deflate receiver does: append 00 00 ff ff and inflate (RFC 7692 §7.2.2). */
function inflate(payload: Uint8Array): string {
  const withTail = new Uint8Array([...payload, 0, 0, 0xff, 0xff]);
  return new TextDecoder().decode(
    inflateRawSync(withTail, { finishFlush: constants.Z_SYNC_FLUSH }),
  );
}

Deno.test("FrameCompressor produces RFC 7692 payloads, once per frame", () => {
  const c = new FrameCompressor({ threshold: 100 });
  const text = JSON.stringify({ type: "message", data: "é😀 ".repeat(2000) });
  const frame = builtFrame(text, new TextEncoder().encode(text).length);
  const payload = c.deflate(frame)!;
  assert.equal(inflate(payload), text);
  assert.equal(c.deflate(frame), payload, "the second client gets the cached bytes");
  const stats = c.stats();
  assert.equal(stats.compressed, 1);
  assert.ok(stats.inputBytes / stats.outputBytes > 10);
});

Deno.test("FrameCompressor leaves small, incompressible and over-budget frames uncompressed", () => {
  let now = 0;
  const c = new FrameCompressor({ threshold: 100, budgetBytesPerSec: 10_000, now: () => now });
  assert.equal(c.deflate(builtFrame("x".repeat(50), 50)), undefined, "under the threshold");
  const noise = crypto.getRandomValues(new Uint8Array(2000));
  assert.equal(c.deflate(builtFrame(noise, noise.length)), undefined, "does not shrink");
  assert.equal(c.stats().skippedNoGain, 1);
  assert.ok(c.deflate(builtFrame("y".repeat(7000), 7000)));
  assert.equal(c.deflate(builtFrame("z".repeat(7000), 7000)), undefined, "over the budget");
  assert.equal(c.stats().skippedBudget, 1);
  now = 1000;
  assert.ok(c.deflate(builtFrame("z".repeat(7000), 7000)), "a new second, a new budget");
});

Deno.test("FrameCompressor refuses a level outside 1 to 9", () => {
  assert.throws(() => new FrameCompressor({ level: 0 }), RangeError);
});
