import assert from "node:assert/strict";
import { decodeWirePing, encodeWirePing } from "../../lib/protocol/wire_ping.ts";

Deno.test("encodeWirePing and decodeWirePing round-trip every offset within a control frame", () => {
  for (const offset of [0, 1, 9, 10, 65_535, 424_311, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    const data = encodeWirePing(offset);
    assert.ok(data.length <= 125, "fits an RFC 6455 control frame");
    assert.equal(decodeWirePing(data), offset);
  }
});

Deno.test("encodeWirePing refuses what is not a byte offset", () => {
  for (const bad of [-1, 1.5, NaN, 2 ** 60]) {
    assert.throws(() => encodeWirePing(bad), RangeError);
  }
});

Deno.test("decodeWirePing ignores pongs the server did not ask for", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  for (const data of [new Uint8Array(0), text("abc"), text("12a"), text("007"), text("-1")]) {
    assert.equal(decodeWirePing(data), undefined);
  }
  assert.equal(decodeWirePing(text("9".repeat(17))), undefined, "longer than any offset");
});
