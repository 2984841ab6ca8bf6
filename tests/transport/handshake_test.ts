import assert from "node:assert/strict";
import { checkHandshake, refusalResponse, wantsWebSocket } from "../../lib/transport/handshake.ts";

const valid = {
  upgrade: "websocket",
  connection: "keep-alive, Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

function check(overrides: Record<string, string | undefined>) {
  const headers: Record<string, string | undefined> = { ...valid, ...overrides };
  return checkHandshake((name) => headers[name]);
}

Deno.test("checkHandshake accepts an RFC 6455 handshake (Connection as a token list)", () => {
  assert.equal(check({}), undefined);
});

Deno.test("checkHandshake refuses a missing Connection: Upgrade with 400", () => {
  assert.equal(check({ connection: undefined })?.status, 400);
  assert.equal(check({ connection: "keep-alive" })?.status, 400);
  assert.match(check({ connection: "close" })!.message, /Connection header must include "Upgrade"/);
});

Deno.test("checkHandshake refuses a missing or malformed Sec-WebSocket-Key with 400", () => {
  assert.match(check({ "sec-websocket-key": undefined })!.message, /missing Sec-WebSocket-Key/);
  assert.equal(check({ "sec-websocket-key": "abc" })?.status, 400);
  // Two keys (a repeated header arrives joined with ", ") are not one nonce.
  assert.equal(check({ "sec-websocket-key": `${valid["sec-websocket-key"]}, x` })?.status, 400);
});

Deno.test("checkHandshake refuses a version other than 13 with 426, a missing one with 400", () => {
  assert.equal(check({ "sec-websocket-version": "8" })?.status, 426);
  assert.match(check({ "sec-websocket-version": "8" })!.message, /version 8 is not supported/);
  assert.equal(check({ "sec-websocket-version": undefined })?.status, 400);
});

Deno.test("wantsWebSocket reads the Upgrade header case-insensitively", () => {
  assert.equal(wantsWebSocket(() => "WebSocket"), true);
  assert.equal(wantsWebSocket(() => "h2c"), false);
  assert.equal(wantsWebSocket(() => undefined), false);
});

Deno.test("refusalResponse names version 13 and carries the app's JSON error body", async () => {
  const response = refusalResponse({ status: 426, message: "use 13" });
  assert.equal(response.status, 426);
  assert.equal(response.headers.get("sec-websocket-version"), "13");
  assert.deepEqual(await response.json(), { error: { code: "invalid_frame", message: "use 13" } });
});
