import assert from "node:assert/strict";
import { isSystemTopic, validateTopic } from "../../lib/protocol/topic_name.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";

Deno.test("validateTopic accepts names of letters, digits and _ . : - /", () => {
  for (const t of ["a", "sessions", "tabs.sync", "user:17/events", "A-B_c", "$metrics", "9"]) {
    validateTopic(t);
  }
});

Deno.test("validateTopic rejects empty, long, spaced and punctuated names, saying why", () => {
  for (const t of ["", " a", "a b", "-a", "$", "$$a", "a*", "ü", "x".repeat(129), 5, null]) {
    assert.throws(() => validateTopic(t), (err: unknown) => {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.code, "invalid_topic");
      return true;
    });
  }
});

Deno.test("isSystemTopic is true only for a leading $", () => {
  assert.equal(isSystemTopic("$metrics"), true);
  assert.equal(isSystemTopic("metrics"), false);
});
